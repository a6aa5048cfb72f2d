import type {ClassificationMetrics} from '../models/classify/classification-metrics.js';
import type {BaselineEvaluation} from '../models/classify/tfidf-baseline.js';

/** Two lines: the model against the TF-IDF + logistic regression baseline on the same rows. */
export function formatBaselineComparison(model: ClassificationMetrics, baseline: BaselineEvaluation): string {
  const delta = 100 * (model.accuracy - baseline.accuracy);
  return [
    `baseline (TF-IDF + logistic regression, fitted on ${baseline.train_examples} rows in ${baseline.seconds.toFixed(1)}s): accuracy ${baseline.accuracy.toFixed(4)}  macro_f1 ${baseline.macro_f1.toFixed(4)}`,
    `model vs baseline: accuracy ${delta >= 0 ? '+' : ''}${delta.toFixed(1)} points, macro_f1 ${model.macro_f1 - baseline.macro_f1 >= 0 ? '+' : ''}${(100 * (model.macro_f1 - baseline.macro_f1)).toFixed(1)} points`,
  ].join('\n');
}
