import type * as tf from '@tensorflow/tfjs';
import type {ModelKind, OpenRun, RunMetric} from '../models/model-kind.js';

/** `accuracy_before`/`accuracy_after` or `perplexity_before`/`perplexity_after`. */
export function metricChange(before: RunMetric, after: RunMetric): Record<string, number> {
  return 'accuracy' in before && 'accuracy' in after
    ? {accuracy_before: before.accuracy, accuracy_after: after.accuracy}
    : {
        perplexity_before: (before as {perplexity: number}).perplexity,
        perplexity_after: (after as {perplexity: number}).perplexity,
      };
}

/** The run's metric on `data` for its own model and for a changed copy (`--eval` of prune, quantize, export). */
export async function metricBeforeAfter(
  kind: ModelKind,
  run: OpenRun,
  changed: tf.LayersModel,
  data: string,
): Promise<Record<string, number>> {
  return metricChange(await kind.metric(run, run.model, data), await kind.metric(run, changed, data));
}
