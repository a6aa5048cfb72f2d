import {ConfigError} from '../../errors.js';
import {checkKnownLabels, readLabeledRows} from '../classify/labeled-data.js';
import {type BaselineEvaluation, tfidfBaseline} from '../classify/tfidf-baseline.js';
import type {BaselineOptions} from '../model-kind.js';
import type {ClassifierRun} from './classifier-run.js';

/**
 * TF-IDF + logistic regression on the run's training file (or `options.train`), scored on
 * `options.data` with the run's fields and label order, so its numbers sit beside the run's own.
 */
export async function textClassifierBaseline(
  run: ClassifierRun,
  options: BaselineOptions,
): Promise<BaselineEvaluation> {
  const train = options.train ?? (run.runConfig.data as {train?: string} | undefined)?.train;
  if (!train) {
    throw new ConfigError(
      `${run.dir}: config.json names no training file for the baseline`,
      'pass --baseline-train FILE',
    );
  }
  const fields = {
    textField: options.textField ?? run.textField,
    labelField: options.labelField ?? run.labelField,
  };
  const trainRows = await readLabeledRows(train, fields);
  checkKnownLabels(trainRows, run.labels, train);
  const testRows = await readLabeledRows(options.data, fields);
  checkKnownLabels(testRows, run.labels, options.data);
  return tfidfBaseline(trainRows, testRows, run.labels);
}
