import {formatLanguageModelEvaluation} from '../models/causal-lm/causal-lm-evaluate.js';
import {formatClassificationMetrics} from '../models/classify/classification-metrics.js';
import type {EvaluateOptions, RunEvaluation} from '../models/model-kind.js';
import {openRun} from '../models/registry.js';

/**
 * `evaluate`: scores a run folder on a data file with its kind's metrics (accuracy, macro-F1,
 * per-class scores and the confusion matrix for classifiers; loss, perplexity and bits per byte for
 * language models).
 */
export async function evaluateRun(options: EvaluateOptions): Promise<RunEvaluation> {
  const {kind, run} = await openRun(options.model);
  try {
    return await kind.evaluate(run, options);
  } finally {
    run.model.dispose();
  }
}

/** The human report of an evaluation: the classifier table, or a line per language-model figure. */
export function formatEvaluation(result: RunEvaluation): string {
  return result.task === 'classify'
    ? formatClassificationMetrics(result)
    : formatLanguageModelEvaluation(result);
}
