import type * as tf from '@tensorflow/tfjs';
import {UserError} from '../errors.js';
import {checkKnownLabels, readLabeledRows} from '../models/classify/labeled-data.js';
import type {LoadedRun} from '../run/run-folder.js';
import {optionalModule} from './train.js';

/** The metric `--eval` reports: accuracy (0..1, as `evaluate` reports it) of a classifier, perplexity of a language model. */
export type RunMetric = {accuracy: number} | {perplexity: number};

interface ClassifierRunModule {
  asClassifierRun(
    run: LoadedRun,
  ): {labels: string[]; textField: string; labelField: string} & Record<string, unknown>;
  classifyTexts(run: unknown, texts: readonly string[], batchSize?: number): Promise<Float32Array>;
  argmaxRows(probs: Float32Array, k: number): Int32Array;
}

interface EvaluateRunModule {
  evaluateRun(options: {model: string; data: string}): Promise<Record<string, unknown>>;
}

/**
 * Scores `model` (the run's own, or a quantized copy) on `data` with the run's tokenizer and
 * labels. Classifiers are scored in memory; other tasks through `evaluateRun` on `folder`, the run
 * folder that holds `model`.
 */
export async function runMetric(
  run: LoadedRun,
  model: tf.LayersModel,
  data: string,
  folder?: string,
): Promise<RunMetric> {
  if (run.config.task === 'classify') {
    const mod = await optionalModule<ClassifierRunModule>('../models/text-classifier/classifier-run.js');
    if (!mod) throw new UserError('--eval on classifiers needs the classifier runtime, not built yet');
    const cls = {...mod.asClassifierRun(run), model};
    const rows = await readLabeledRows(data, {textField: cls.textField, labelField: cls.labelField});
    checkKnownLabels(rows, cls.labels, data);
    const predicted = mod.argmaxRows(
      await mod.classifyTexts(
        cls,
        rows.map((r) => r.text),
      ),
      cls.labels.length,
    );
    const index = new Map(cls.labels.map((l, i) => [l, i]));
    const correct = rows.filter((r, i) => index.get(r.label) === predicted[i]).length;
    return {accuracy: correct / rows.length};
  }
  if (folder === undefined) {
    throw new UserError(
      `--eval here scores classifiers only; "${run.config.task}" runs: use quantize --eval`,
    );
  }
  const mod = await optionalModule<EvaluateRunModule>('./evaluate.js');
  if (!mod) throw new UserError(`--eval on "${run.config.task}" runs is not available yet`);
  const result = await mod.evaluateRun({model: folder, data});
  if (typeof result.perplexity !== 'number') {
    throw new UserError(`evaluating a "${run.config.task}" run gave no perplexity`);
  }
  return {perplexity: result.perplexity};
}

/** `accuracy_before`/`accuracy_after` or `perplexity_before`/`perplexity_after`. */
export function metricChange(before: RunMetric, after: RunMetric): Record<string, number> {
  return 'accuracy' in before && 'accuracy' in after
    ? {accuracy_before: before.accuracy, accuracy_after: after.accuracy}
    : {
        perplexity_before: (before as {perplexity: number}).perplexity,
        perplexity_after: (after as {perplexity: number}).perplexity,
      };
}
