import type * as tf from '@tensorflow/tfjs';
import {ConfigError, ModelError} from '../errors.js';
import type {LoadedRun} from '../run/run-folder.js';
import type {BatchSource} from '../train/batch-source.js';
import type {LossFn} from '../train/trainer.js';
import type {CausalLMConfig} from './causal-lm/causal-lm.js';
import {languageModelLoss} from './causal-lm/causal-lm-train.js';
import {encodeDocuments, lmBatchSource, readTextDocuments} from './causal-lm/lm-data.js';
import {checkKnownLabels, readLabeledRows} from './classify/labeled-data.js';
import {asClassifierRun} from './text-classifier/classifier-run.js';
import {batchSource, classifierLoss, encodeRows} from './text-classifier/classifier-train.js';

/** A run's data file as the trainer takes it, with the loss of the run's task and its training settings. */
export interface PruneData {
  data: BatchSource;
  loss: LossFn;
  /** The run's training lr, batch size and seed (config.json `training`), where recorded. */
  training: {lr?: number; batchSize?: number; seed?: number};
}

/**
 * Reads `file` for fine-tuning or measuring `model` (the run's model, or a pruned copy): labeled rows
 * for classifiers (labels the run never saw are an error), text for language models (windows of
 * contextLength tokens), encoded with the run's tokenizer.
 */
export async function pruneData(
  run: LoadedRun,
  model: tf.LayersModel,
  file: string,
  options: {batchSize?: number; seed?: number; shuffle?: boolean} = {},
): Promise<PruneData> {
  const training = (run.config.training ?? {}) as PruneData['training'];
  const batchSize = options.batchSize ?? training.batchSize ?? 32;
  const seed = options.seed ?? training.seed ?? 42;
  const shuffle = options.shuffle ?? true;
  if (run.config.task === 'classify') {
    const cls = asClassifierRun(run);
    const rows = await readLabeledRows(file, {textField: cls.textField, labelField: cls.labelField});
    checkKnownLabels(rows, cls.labels, file);
    const encoded = await encodeRows(rows, cls.labels, cls.tokenizer, cls.config.maxLen);
    return {
      data: batchSource(encoded, cls.config.maxLen, batchSize, seed, shuffle),
      loss: classifierLoss(model),
      training,
    };
  }
  if (run.config.task === 'lm') {
    if (!run.tokenizer) throw new ModelError(`${run.dir} has no tokenizer.json`, 'copy the whole run folder');
    const config = run.config.model as CausalLMConfig;
    const textField = (run.config.data as {textField?: string} | undefined)?.textField;
    const stream = await encodeDocuments(run.tokenizer, await readTextDocuments(file, textField));
    const data = lmBatchSource(stream, config.contextLength, batchSize, seed, shuffle);
    if (data.batchesPerEpoch === 0) {
      throw new ConfigError(`${file}: fewer tokens than one window of ${config.contextLength + 1}`);
    }
    return {data, loss: languageModelLoss(model), training};
  }
  throw new ConfigError(`--data on "${run.config.task}" runs is not supported`);
}
