import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {ConfigError} from '../../errors.js';
import {
  checkRunFolderUsable,
  prepareRunFolder,
  RUN_FILES,
  type RunConfig,
  saveRunArtifacts,
} from '../../run/run-folder.js';
import {checkTokenizerVocab} from '../../tokenizer/check-vocab.js';
import {loadTokenizer, type Tokenizer} from '../../tokenizer/tokenizer.js';
import {trainTokenizer} from '../../tokenizer/train-tokenizer.js';
import {arrayBatchSource, type BatchSource} from '../../train/batch-source.js';
import {accuracy, modelLosses, sparseCrossEntropy} from '../../train/losses.js';
import {onStepWithRoutingAlarm, routingMetrics} from '../../train/moe-monitor.js';
import {withSeededRandom} from '../../train/seeded-random.js';
import {trainableFromLayersModel} from '../../train/trainable.js';
import {type LossFn, type TrainResult, train} from '../../train/trainer.js';
import {
  checkKnownLabels,
  holdout,
  type LabeledRow,
  labelSet,
  readLabeledRows,
  withClassWeights,
} from '../classify/labeled-data.js';
import {loadModelConfig} from '../model-config.js';
import {engineOptions, type TrainRunOptions, type TrainRunReport} from '../train-options.js';
import {
  buildClassifier,
  CLASSIFIER_PRESETS,
  type ClassifierConfig,
  DEFAULT_CLASSIFIER_CONFIG,
  encodeTexts,
} from './classifier.js';

/** Encoded examples: ids [n × maxLen] row-major, class ids, weights. */
export interface Encoded {
  ids: Int32Array;
  labels: Int32Array;
  weights: Float32Array;
  n: number;
}

/** Rows as token ids cut/padded to maxLen, class ids by `labels` order, and example weights. */
export async function encodeRows(
  rows: readonly LabeledRow[],
  labels: readonly string[],
  tokenizer: Tokenizer,
  maxLen: number,
): Promise<Encoded> {
  const index = new Map(labels.map((l, i) => [l, i]));
  return {
    ids: await encodeTexts(
      tokenizer,
      rows.map((r) => r.text),
      maxLen,
    ),
    labels: Int32Array.from(rows, (r) => index.get(r.label)!),
    weights: Float32Array.from(rows, (r) => r.weight),
    n: rows.length,
  };
}

/** Batches of encoded rows: ids [b, maxLen] int32, class ids [b], weights [b]. */
export function batchSource(
  data: Encoded,
  maxLen: number,
  batchSize: number,
  seed: number,
  shuffle: boolean,
): BatchSource {
  const rows = Array.from({length: data.n}, (_, i) => i);
  return arrayBatchSource(rows, {
    batchSize,
    seed,
    shuffle,
    collate: (picked) => {
      const ids = new Int32Array(picked.length * maxLen);
      for (const [j, row] of picked.entries()) {
        ids.set(data.ids.subarray(row * maxLen, (row + 1) * maxLen), j * maxLen);
      }
      let tokens = 0;
      for (const id of ids) if (id !== 0) tokens++;
      return {
        inputs: tf.tensor2d(ids, [picked.length, maxLen], 'int32'),
        targets: tf.tensor1d(
          Int32Array.from(picked, (r) => data.labels[r]!),
          'int32',
        ),
        weights: tf.tensor1d(Float32Array.from(picked, (r) => data.weights[r]!)),
        tokens,
      };
    },
  });
}

/** Weighted cross-entropy of the classifier's logits (+ layer losses such as MoE aux in training), and accuracy. */
export function classifierLoss(model: tf.LayersModel): LossFn {
  return (batch, ctx) =>
    withSeededRandom(ctx.seed, () => {
      const logits = model.apply(batch.inputs, {training: ctx.training}) as tf.Tensor;
      const task = sparseCrossEntropy(logits, batch.targets, batch.weights);
      const total = ctx.training ? tf.add(task, modelLosses(model)) : task;
      return {
        loss: total as tf.Scalar,
        metrics: {acc: accuracy(logits, batch.targets), ...(ctx.training ? routingMetrics(model) : {})},
      };
    });
}

/** What `train` reports of a finished classifier run. */
export function classifierReport(
  out: string,
  result: TrainResult,
  model: tf.LayersModel,
  trainExamples: number,
  valExamples: number,
): TrainRunReport {
  return {
    task: 'classify',
    out,
    steps: result.steps,
    epochs: result.epochsCompleted,
    stoppedBy: result.stoppedBy,
    seconds: result.seconds,
    finalLoss: result.finalLoss,
    validation: result.lastEval,
    parameters: model.countParams(),
    trainExamples,
    valExamples,
    tokensPerSecond: result.tokensPerSecond,
    resumedFrom: result.resumedFrom,
  };
}

/** The training settings a classifier run records in config.json (checked on --resume). */
export function trainingSettings(
  options: TrainRunOptions,
  batchSize: number,
  seed: number,
): Record<string, number> {
  return {
    batchSize,
    lr: options.lr ?? 1e-3,
    seed,
    weightDecay: options.weightDecay ?? 0.01,
    clipNorm: options.clipNorm ?? 1,
  };
}

/**
 * `onError`/`onSkip` for the row readers from the run options: skipped rows are told to `onInfo`
 * (the first few in full, then a count every 100).
 */
export function skipSettings(options: TrainRunOptions): {
  onError?: 'fail' | 'skip';
  onSkip?: (e: Error) => void;
} {
  let skipped = 0;
  return {
    onError: options.onError,
    onSkip: (error) => {
      skipped++;
      if (skipped <= 5) options.onInfo?.(`warning: skipped ${error.message}`);
      else if (skipped % 100 === 0) options.onInfo?.(`warning: ${skipped} malformed rows skipped`);
    },
  };
}

/** Training rows' weights times `options.classWeights` (validation keeps its sample weights). */
export function classWeighted<T extends {labels: Int32Array; weights: Float32Array}>(
  data: T,
  numClasses: number,
  options: Pick<TrainRunOptions, 'classWeights'>,
): T {
  return {...data, weights: withClassWeights(data.labels, data.weights, numClasses, options.classWeights)};
}

/** Weight settings for config.json, only when not the defaults (so older runs still resume). */
export function weightSettings(options: TrainRunOptions): Record<string, string> {
  return {
    ...(options.weightField && options.weightField !== 'weight' ? {weightField: options.weightField} : {}),
    ...(options.classWeights === 'balanced' ? {classWeights: 'balanced'} : {}),
  };
}

/** The classifier's config from preset, file and flags; vocabulary from --vocab-size. */
export async function resolveClassifierConfig(options: TrainRunOptions): Promise<ClassifierConfig> {
  return loadModelConfig({
    family: 'classifier',
    defaults: DEFAULT_CLASSIFIER_CONFIG,
    presets: CLASSIFIER_PRESETS,
    preset: options.preset,
    configFile: options.configFile,
    overrides: {...options.overrides, vocabSize: options.vocabSize} as Partial<ClassifierConfig>,
  });
}

/**
 * Trains a text classifier into the run folder `options.out`. Everything that can be wrong with
 * the input (data, labels, config, tokenizer) is checked before the folder is created.
 */
export async function trainClassifier(options: TrainRunOptions): Promise<TrainRunReport> {
  if (options.features?.length) {
    // Numeric columns: the feature classifier (imported here: it reuses this file's loss).
    const {trainFeatureClassifier} = await import('../feature-classifier/feature-classifier-train.js');
    return trainFeatureClassifier(options);
  }
  await checkRunFolderUsable(options.out, options);
  const config = await resolveClassifierConfig(options);
  const seed = options.seed ?? 42;
  const fields = {
    textField: options.textField,
    labelField: options.labelField,
    weightField: options.weightField,
    ...skipSettings(options),
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
  const labels = labelSet(trainRows, options.data);
  if (options.val) checkKnownLabels(valRows, labels, options.val);

  const tokenizerFile = options.resume ? join(options.out, RUN_FILES.tokenizer) : options.tokenizer;
  let tokenizer: Tokenizer;
  if (tokenizerFile) {
    tokenizer = await loadTokenizer(tokenizerFile);
    if (!options.resume) await checkTokenizerVocab(tokenizer, tokenizerFile, options);
  } else {
    tokenizer = await trainTokenizer({
      kind: config.tokenizerKind,
      vocabSize: config.vocabSize,
      texts: trainRows.map((r) => r.text),
    });
    options.onInfo?.(
      `tokenizer: ${config.tokenizerKind}, ${tokenizer.vocabSize} ids, trained on ${trainRows.length} texts`,
    );
  }
  if (tokenizer.special.pad === undefined) {
    throw new ConfigError(
      `tokenizer ${tokenizerFile} has no [PAD] token`,
      'the classifier pads texts to maxLen',
    );
  }

  const batchSize = options.batchSize ?? 32;
  const runConfig: RunConfig = {
    task: 'classify',
    model: config,
    labels,
    tokenizer: {kind: tokenizer.kind, vocabSize: tokenizer.vocabSize, file: options.tokenizer ?? null},
    data: {
      train: options.data,
      val: options.val ?? null,
      textField: options.textField ?? 'text',
      labelField: options.labelField ?? 'label',
      ...weightSettings(options),
    },
    training: trainingSettings(options, batchSize, seed),
  };
  const [trainData, valData] = [
    classWeighted(await encodeRows(trainRows, labels, tokenizer, config.maxLen), labels.length, options),
    await encodeRows(valRows, labels, tokenizer, config.maxLen),
  ];
  const model = withSeededRandom(seed, () =>
    buildClassifier(config, tokenizer.vocabSize, labels.length, tokenizer.special.pad),
  );
  try {
    await prepareRunFolder(options.out, runConfig, options);
    // Tokenizer and labels first, so that a run killed mid-training can be resumed.
    if (!options.resume) await saveRunArtifacts(options.out, {tokenizer, labels});
    const loss = classifierLoss(model);
    const result = await train({
      ...engineOptions(options),
      onStep: onStepWithRoutingAlarm(model, options),
      model: trainableFromLayersModel(model),
      loss,
      data: batchSource(trainData, config.maxLen, batchSize, seed, true),
      validation: valData.n > 0 ? batchSource(valData, config.maxLen, batchSize, seed, false) : undefined,
      lr: options.lr,
      optimizer: {weightDecay: options.weightDecay ?? 0.01},
      earlyStopping:
        options.patience && valData.n > 0 ? {metric: 'val_loss', patience: options.patience} : undefined,
    });
    await saveRunArtifacts(options.out, {model, tokenizer, labels});
    return classifierReport(options.out, result, model, trainData.n, valData.n);
  } finally {
    model.dispose();
  }
}
