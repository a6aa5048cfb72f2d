import type * as tf from '@tensorflow/tfjs';
import {ConfigError, DatasetError, ModelError} from '../errors.js';
import type {LoadedRun} from '../run/run-folder.js';
import type {BatchSource} from '../train/batch-source.js';
import type {LossFn} from '../train/trainer.js';
import type {FinetuneOptions} from '../workflows/finetune-options.js';
import type {CausalLMConfig} from './causal-lm/causal-lm.js';
import {languageModelLoss} from './causal-lm/causal-lm-train.js';
import {
  encodeDocuments,
  holdoutTail,
  lmBatchSource,
  readTextDocuments,
  windowStarts,
} from './causal-lm/lm-data.js';
import {
  checkKnownLabels,
  holdout,
  type LabeledRow,
  labelSet,
  readLabeledRows,
} from './classify/labeled-data.js';
import {asClassifierRun} from './text-classifier/classifier-run.js';
import {batchSource, classifierLoss, encodeRows} from './text-classifier/classifier-train.js';

/** The task-specific part of fine-tuning: the data as batches, the loss, and the label set. */
export interface FinetuneData {
  train: BatchSource;
  val?: BatchSource;
  trainExamples: number;
  valExamples: number;
  /** The loss of the task for a given (adapted) model. */
  loss: (model: tf.LayersModel) => LossFn;
  /** Classifiers: the labels of the fine-tuned model (the base's, or the data's with a new head). */
  labels?: string[];
  /** The classifier head's layer name, when the task has one. */
  head?: string;
}

/** The name of the classifier's output Dense (src/models/classifier.ts). */
export const CLASSIFIER_HEAD = 'logits';

type DataOptions = Pick<
  FinetuneOptions,
  'data' | 'val' | 'textField' | 'labelField' | 'newHead' | 'onInfo' | 'batchSize' | 'seed'
>;

/** Reads the fine-tuning data for the base run's task; a task without a hook is a ConfigError. */
export async function finetuneData(run: LoadedRun, options: DataOptions): Promise<FinetuneData> {
  if (run.config.task === 'classify') return classifierData(run, options);
  if (run.config.task === 'lm') return languageModelData(run, options);
  throw new ConfigError(`finetune does not support "${run.config.task}" runs`, 'use a classify or lm run');
}

function batchSettings(run: LoadedRun, options: DataOptions, fallback: number) {
  const training = (run.config.training ?? {}) as {batchSize?: number; seed?: number};
  return {batchSize: options.batchSize ?? training.batchSize ?? fallback, seed: options.seed ?? 42};
}

/**
 * Labeled rows encoded with the base's tokenizer. Labels the base never saw are an error naming
 * them, unless `newHead`: then the label set is the data's, and the head is replaced.
 */
async function classifierData(run: LoadedRun, options: DataOptions): Promise<FinetuneData> {
  const cls = asClassifierRun(run);
  const fields = {
    textField: options.textField ?? cls.textField,
    labelField: options.labelField ?? cls.labelField,
  };
  const all = await readLabeledRows(options.data, fields);
  let trainRows = all;
  let valRows: LabeledRow[];
  if (options.val) {
    valRows = await readLabeledRows(options.val, fields);
  } else {
    ({train: trainRows, val: valRows} = holdout(all));
    options.onInfo?.(`validation: ${valRows.length} rows held out of ${options.data} (10%, by text hash)`);
  }
  const known = new Set(cls.labels);
  const unknown = [...new Set(trainRows.map((r) => r.label))].filter((l) => !known.has(l)).sort();
  let labels = cls.labels;
  if (options.newHead) {
    labels = labelSet(trainRows, options.data);
  } else if (unknown.length > 0) {
    throw new DatasetError(
      `${options.data}: label${unknown.length > 1 ? 's' : ''} ${unknown.map((l) => `"${l}"`).join(', ')} ` +
        `not known to the base model ${run.dir} (it predicts ${cls.labels.join(', ')})`,
      'pass --new-head to replace the classifier head with one over the fine-tuning labels',
    );
  }
  checkKnownLabels(valRows, labels, options.val ?? options.data);
  const {maxLen} = cls.config;
  const {batchSize, seed} = batchSettings(run, options, 32);
  const trainData = await encodeRows(trainRows, labels, cls.tokenizer, maxLen);
  const valData = await encodeRows(valRows, labels, cls.tokenizer, maxLen);
  return {
    train: batchSource(trainData, maxLen, batchSize, seed, true),
    val: valData.n > 0 ? batchSource(valData, maxLen, batchSize, seed, false) : undefined,
    trainExamples: trainData.n,
    valExamples: valData.n,
    loss: classifierLoss,
    labels,
    head: CLASSIFIER_HEAD,
  };
}

/** Text as windows of the base's context length, with its tokenizer; validation from --val or each document's tail. */
async function languageModelData(run: LoadedRun, options: DataOptions): Promise<FinetuneData> {
  if (!run.tokenizer) throw new ModelError(`${run.dir} has no tokenizer.json`, 'copy the whole run folder');
  if (options.newHead)
    throw new ConfigError('--new-head replaces a classifier head; a language model has none');
  const config = run.config.model as CausalLMConfig;
  const textField = options.textField ?? (run.config.data as {textField?: string} | undefined)?.textField;
  const docs = await readTextDocuments(options.data, textField);
  let trainDocs = docs;
  let valDocs: string[];
  if (options.val) {
    valDocs = await readTextDocuments(options.val, textField);
  } else {
    ({train: trainDocs, val: valDocs} = holdoutTail(docs));
    options.onInfo?.(`validation: the last 10% of each document of ${options.data}`);
  }
  const length = config.contextLength;
  const trainStream = await encodeDocuments(run.tokenizer, trainDocs);
  const valStream = await encodeDocuments(run.tokenizer, valDocs);
  const trainWindows = windowStarts(trainStream.length, length).length;
  if (trainWindows === 0) {
    throw new DatasetError(
      `${options.data}: ${trainStream.length} training tokens, fewer than one window of ${length + 1}`,
      'give more text',
    );
  }
  const valWindows = windowStarts(valStream.length, length).length;
  const {batchSize, seed} = batchSettings(run, options, 16);
  return {
    train: lmBatchSource(trainStream, length, batchSize, seed, true),
    val: valWindows > 0 ? lmBatchSource(valStream, length, batchSize, seed, false) : undefined,
    trainExamples: trainWindows,
    valExamples: valWindows,
    loss: languageModelLoss,
  };
}
