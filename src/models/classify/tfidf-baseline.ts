import {DatasetError} from '../../errors.js';
import {type ClassificationMetrics, classificationMetrics} from './classification-metrics.js';
import {fitLogisticRegression, predictLogisticRegression} from './logistic-regression.js';
import {TfidfVectorizer} from './tfidf-vectorizer.js';

/** What a baseline reports: the classifier metrics on the scored rows, its cost and size. */
export type BaselineEvaluation = ClassificationMetrics & {
  /** `tfidf-logreg`: TF-IDF words + multinomial logistic regression (scikit-learn's defaults). */
  baseline: string;
  /** Rows it was fitted on. */
  train_examples: number;
  /** Seconds to fit (vectorize + optimize) and score. */
  seconds: number;
  /** Weights + biases. */
  parameters: number;
  /** L-BFGS iterations, and whether the gradient tolerance was reached within them. */
  iterations: number;
  converged: boolean;
};

export interface BaselineRow {
  text: string;
  label: string;
}

/**
 * The five-line scikit-learn baseline (`TfidfVectorizer()` + `LogisticRegression()`, both with their
 * defaults) fitted on `train` and scored on `test`: what a neural classifier has to beat to earn its
 * cost. `labels` orders the classes (default: the training labels, sorted); a scored row whose label
 * is not among them is a DatasetError.
 */
export function tfidfBaseline(
  train: readonly BaselineRow[],
  test: readonly BaselineRow[],
  labels: readonly string[] = [...new Set(train.map((r) => r.label))].sort(),
): BaselineEvaluation {
  const started = performance.now();
  const index = new Map(labels.map((l, i) => [l, i]));
  const classOf = (r: BaselineRow, what: string) => {
    const c = index.get(r.label);
    if (c === undefined) {
      throw new DatasetError(
        `baseline: ${what} label "${r.label}" is not one of the classes (${labels.join(', ')})`,
        'score the baseline on data with the labels it was trained on',
      );
    }
    return c;
  };
  const y = Int32Array.from(train, (r) => classOf(r, 'training'));
  const actual = Int32Array.from(test, (r) => classOf(r, 'test'));
  const vectorizer = new TfidfVectorizer().fit(train.map((r) => r.text));
  const model = fitLogisticRegression(vectorizer.transform(train.map((r) => r.text)), y, labels.length);
  const predicted = predictLogisticRegression(model, vectorizer.transform(test.map((r) => r.text)));
  return {
    baseline: 'tfidf-logreg',
    ...classificationMetrics(predicted, actual, labels),
    train_examples: train.length,
    seconds: (performance.now() - started) / 1000,
    parameters: model.weights.length + model.bias.length,
    iterations: model.iterations,
    converged: model.converged,
  };
}
