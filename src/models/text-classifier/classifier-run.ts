import type * as tf from '@tensorflow/tfjs';
import type {Doc} from '../../data/doc.js';
import {readDocBatches} from '../../data/io/read-docs.js';
import {writeDocs} from '../../data/io/write-docs.js';
import {DatasetError, ModelError} from '../../errors.js';
import type {LoadedRun} from '../../run/run-folder.js';
import type {Tokenizer} from '../../tokenizer/tokenizer.js';
import {forwardForPasses, type GraphForward} from '../../train/graph-forward.js';
import {argmaxRows, classificationMetrics} from '../classify/classification-metrics.js';
import {checkKnownLabels, readLabeledRows} from '../classify/labeled-data.js';
import type {
  ClassifierEvaluation,
  EvaluateOptions,
  OpenRun,
  PredictOptions,
  PredictReport,
  RunMetric,
} from '../model-kind.js';
import {type ClassifierConfig, classifyTexts} from './classifier.js';

/** A loaded classifier run: everything needed to turn texts into class probabilities. */
export interface ClassifierRun extends OpenRun {
  model: tf.LayersModel;
  tokenizer: Tokenizer;
  labels: string[];
  config: ClassifierConfig;
  /** Text and label field names the run was trained with. */
  textField: string;
  labelField: string;
}

/** Checks that a loaded run is a classifier with its tokenizer and labels. */
export function asClassifierRun(run: LoadedRun): ClassifierRun {
  if (run.config.task !== 'classify') {
    throw new ModelError(`${run.dir} is a "${run.config.task}" run, not a classifier`);
  }
  if (!run.tokenizer) throw new ModelError(`${run.dir} has no tokenizer.json`, 'copy the whole run folder');
  if (!run.labels) throw new ModelError(`${run.dir} has no labels.json`, 'copy the whole run folder');
  const config = run.config.model as ClassifierConfig;
  const data = (run.config.data ?? {}) as {textField?: string; labelField?: string};
  return {
    dir: run.dir,
    runConfig: run.config,
    model: run.model,
    tokenizer: run.tokenizer,
    labels: run.labels,
    config,
    textField: data.textField ?? 'text',
    labelField: data.labelField ?? 'label',
  };
}

/** Class probabilities of rows (objects): each needs the run's text field as a string. */
export async function classifyTextRows(
  run: ClassifierRun,
  rows: readonly Record<string, unknown>[],
  batchSize?: number,
  forward?: GraphForward,
): Promise<Float32Array> {
  const texts = rows.map((row, i) => {
    const text = row[run.textField];
    if (typeof text !== 'string') {
      throw new DatasetError(
        `row ${i + 1}: no text in field "${run.textField}"`,
        `the run was trained on the "${run.textField}" field`,
      );
    }
    return text;
  });
  return classifyTexts(run, texts, batchSize, {forward});
}

/** Accuracy, macro-F1, per-class precision/recall and the confusion matrix of a classifier run. */
export async function evaluateTextClassifier(
  run: ClassifierRun,
  options: EvaluateOptions,
): Promise<ClassifierEvaluation> {
  const rows = await readLabeledRows(options.data, {
    textField: options.textField ?? run.textField,
    labelField: options.labelField ?? run.labelField,
  });
  checkKnownLabels(rows, run.labels, options.data);
  const probs = await classifyTexts(
    run,
    rows.map((r) => r.text),
    options.batchSize,
    {onInfo: options.onInfo},
  );
  const index = new Map(run.labels.map((l, i) => [l, i]));
  const actual = rows.map((r) => index.get(r.label)!);
  const metrics = classificationMetrics(argmaxRows(probs, run.labels.length), actual, run.labels);
  return {task: 'classify', model: options.model, data: options.data, ...metrics};
}

/** Accuracy of `model` (the run's, or a pruned or quantized copy) on the labeled rows of `data`. */
export async function textClassifierAccuracy(
  run: ClassifierRun,
  model: tf.LayersModel,
  data: string,
): Promise<RunMetric> {
  const rows = await readLabeledRows(data, {textField: run.textField, labelField: run.labelField});
  checkKnownLabels(rows, run.labels, data);
  const predicted = argmaxRows(
    await classifyTexts(
      {...run, model},
      rows.map((r) => r.text),
    ),
    run.labels.length,
  );
  const index = new Map(run.labels.map((l, i) => [l, i]));
  const correct = rows.filter((r, i) => index.get(r.label) === predicted[i]).length;
  return {accuracy: correct / rows.length};
}

/**
 * Streams rows through a classifier run: each output row is the input row with `label` set to the
 * predicted class and `probabilities` ({class: p}); a label the input already had moves to
 * `input_label`, so the two can be compared.
 */
export async function predictTexts(run: ClassifierRun, options: PredictOptions): Promise<PredictReport> {
  const k = run.labels.length;
  const batchSize = options.batchSize ?? 64;
  // One captured forward pass for the whole stream: its full batches run as one TensorFlow call.
  const forward = forwardForPasses(run.model, batchSize, Number.POSITIVE_INFINITY, options.onInfo);
  let done = 0;
  async function* predicted(): AsyncGenerator<Doc> {
    const batches = readDocBatches({
      input: options.input,
      format: options.format,
      textField: options.textField ?? run.textField,
    });
    for await (const batch of batches) {
      const probs = await classifyTexts(
        run,
        batch.map((d) => d.text),
        batchSize,
        {forward},
      );
      const best = argmaxRows(probs, k);
      for (const [i, doc] of batch.entries()) {
        const probabilities = Object.fromEntries(
          run.labels.map((l, c) => [l, Number(probs[i * k + c]!.toFixed(6))]),
        );
        const fields = doc.label === undefined ? doc.fields : {input_label: doc.label, ...doc.fields};
        yield {...doc, label: run.labels[best[i]!]!, fields: {...fields, probabilities}};
      }
      done += batch.length;
      options.onRows?.(done);
    }
  }
  try {
    const {rows} = await writeDocs(predicted(), {
      output: options.output,
      format: options.outFormat,
      textField: options.textField ?? run.textField,
      inputs: typeof options.input === 'string' ? [options.input] : [],
    });
    return {rows, labels: run.labels};
  } finally {
    forward?.dispose();
  }
}
