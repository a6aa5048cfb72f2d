import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {ConfigError, DatasetError} from '../../errors.js';
import {
  checkRunFolderUsable,
  prepareRunFolder,
  RUN_FILES,
  type RunConfig,
  saveRunArtifacts,
} from '../../run/run-folder.js';
import {loadTokenizer, type Tokenizer} from '../../tokenizer/tokenizer.js';
import {trainTokenizer} from '../../tokenizer/train-tokenizer.js';
import {arrayBatchSource, type BatchSource} from '../../train/batch-source.js';
import {onStepWithRoutingAlarm} from '../../train/moe-monitor.js';
import {withSeededRandom} from '../../train/seeded-random.js';
import {trainableFromLayersModel} from '../../train/trainable.js';
import {train} from '../../train/trainer.js';
import {checkTokenizerVocab} from '../check-vocab.js';
import {
  classifierLoss,
  classifierReport,
  classWeighted,
  skipSettings,
  trainingSettings,
  weightSettings,
} from '../classify/classifier-training.js';
import {
  checkKnownLabels,
  holdout,
  type LabeledRow,
  labelSet,
  readLabeledRows,
} from '../classify/labeled-data.js';
import {loadModelConfig} from '../model-config.js';
import type {FinetuneData, FinetuneDataOptions, KindData, ReadDataOptions} from '../model-kind.js';
import {checkMoEConfig, OPTIONAL_CONFIG_KEYS} from '../moe-config.js';
import {engineOptions, type TrainRunOptions, type TrainRunReport} from '../train-options.js';
import {
  buildClassifier,
  CLASSIFIER_HEAD,
  CLASSIFIER_PRESETS,
  type ClassifierConfig,
  DEFAULT_CLASSIFIER_CONFIG,
  encodeTexts,
} from './classifier.js';
import {type ClassifierPlan, planClassifier, profileRows} from './classifier-plan.js';
import type {ClassifierRun} from './classifier-run.js';

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

/**
 * The classifier's config from preset, file and flags; vocabulary from --vocab-size. A plan's preset
 * stands in for a missing --preset, and its keys (maxLen fitted to the texts) sit under the file and flags.
 */
export async function resolveClassifierConfig(
  options: TrainRunOptions,
  plan?: Pick<ClassifierPlan, 'preset' | 'overrides'>,
): Promise<ClassifierConfig> {
  const config = await loadModelConfig({
    optional: OPTIONAL_CONFIG_KEYS,
    family: 'classifier',
    defaults: DEFAULT_CLASSIFIER_CONFIG,
    presets: CLASSIFIER_PRESETS,
    preset: options.preset ?? plan?.preset,
    configFile: options.configFile,
    overrides: {...plan?.overrides, ...dropUndefined(options.overrides ?? {}), vocabSize: options.vocabSize},
  });
  return checkMoEConfig(config);
}

const dropUndefined = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<ClassifierConfig>;

/**
 * Trains a text classifier into the run folder `options.out`. Everything that can be wrong with
 * the input (data, labels, config, tokenizer) is checked before the folder is created.
 */
export async function trainClassifier(options: TrainRunOptions): Promise<TrainRunReport> {
  if (options.features?.length) {
    throw new ConfigError(
      'trainClassifier trains on text; numeric --features train a feature classifier',
      'call trainRun (which picks the kind) or trainFeatureClassifier',
    );
  }
  await checkRunFolderUsable(options.out, options);
  await resolveClassifierConfig(options); // a bad preset, file or key fails before the data is read
  const seed = options.seed ?? 42;
  const fields = {
    textField: options.textField,
    labelField: options.labelField,
    weightField: options.weightField,
    ...skipSettings(options),
  };
  const {trainRows, valRows} = await readTrainAndVal(options, fields);
  const labels = labelSet(trainRows, options.data);
  if (options.val) checkKnownLabels(valRows, labels, options.val);
  const plan = planClassifier(profileRows(trainRows), options);
  const config = await resolveClassifierConfig(options, plan);
  options.onInfo?.(plan.reason);
  const schedule = plan.schedule;

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

  const batchSize = schedule.batchSize;
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
    training: trainingSettings({...options, lr: schedule.lr}, batchSize, seed),
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
      ...engineOptions({...options, epochs: schedule.epochs}),
      onStep: onStepWithRoutingAlarm(model, options),
      model: trainableFromLayersModel(model),
      loss,
      data: batchSource(trainData, config.maxLen, batchSize, seed, true),
      validation: valData.n > 0 ? batchSource(valData, config.maxLen, batchSize, seed, false) : undefined,
      lr: schedule.lr,
      optimizer: {weightDecay: options.weightDecay ?? 0.01},
      earlyStopping:
        schedule.patience > 0 && valData.n > 0
          ? {metric: 'val_loss', patience: schedule.patience}
          : undefined,
    });
    await saveRunArtifacts(options.out, {model, tokenizer, labels});
    return classifierReport(options.out, result, model, trainData.n, valData.n);
  } finally {
    model.dispose();
  }
}

/** Labeled rows of `file` encoded with the run's tokenizer (labels the run never saw are an error). */
export async function readClassifierData(
  run: ClassifierRun,
  file: string,
  options: ReadDataOptions,
): Promise<KindData> {
  const rows = await readLabeledRows(file, {textField: run.textField, labelField: run.labelField});
  checkKnownLabels(rows, run.labels, file);
  const encoded = await encodeRows(rows, run.labels, run.tokenizer, run.config.maxLen);
  return {
    source: batchSource(encoded, run.config.maxLen, options.batchSize, options.seed, options.shuffle),
    examples: encoded.n,
  };
}

/**
 * Fine-tuning rows encoded with the base's tokenizer. Labels the base never saw are an error naming
 * them, unless `newHead`: then the label set is the data's, and the head is replaced.
 */
export async function classifierFinetuneData(
  run: ClassifierRun,
  options: FinetuneDataOptions,
): Promise<FinetuneData> {
  const fields = {
    textField: options.textField ?? run.textField,
    labelField: options.labelField ?? run.labelField,
  };
  const {trainRows, valRows} = await readTrainAndVal(options, fields);
  const known = new Set(run.labels);
  const unknown = [...new Set(trainRows.map((r) => r.label))].filter((l) => !known.has(l)).sort();
  let labels = run.labels;
  if (options.newHead) {
    labels = labelSet(trainRows, options.data);
  } else if (unknown.length > 0) {
    throw new DatasetError(
      `${options.data}: label${unknown.length > 1 ? 's' : ''} ${unknown.map((l) => `"${l}"`).join(', ')} ` +
        `not known to the base model ${run.dir} (it predicts ${run.labels.join(', ')})`,
      'pass --new-head to replace the classifier head with one over the fine-tuning labels',
    );
  }
  checkKnownLabels(valRows, labels, options.val ?? options.data);
  const {maxLen} = run.config;
  const training = (run.runConfig.training ?? {}) as {batchSize?: number};
  const batchSize = options.batchSize ?? training.batchSize ?? 32;
  const trainData = await encodeRows(trainRows, labels, run.tokenizer, maxLen);
  const valData = await encodeRows(valRows, labels, run.tokenizer, maxLen);
  return {
    train: batchSource(trainData, maxLen, batchSize, options.seed, true),
    val: valData.n > 0 ? batchSource(valData, maxLen, batchSize, options.seed, false) : undefined,
    trainExamples: trainData.n,
    valExamples: valData.n,
    labels,
    head: CLASSIFIER_HEAD,
  };
}

/**
 * The training rows and the validation rows: --val's file, or 10% of --data held out by text hash
 * (said through onInfo).
 */
async function readTrainAndVal(
  options: {data: string; val?: string; onInfo?: (line: string) => void},
  fields: Parameters<typeof readLabeledRows>[1],
): Promise<{trainRows: LabeledRow[]; valRows: LabeledRow[]}> {
  const all = await readLabeledRows(options.data, fields);
  if (options.val) return {trainRows: all, valRows: await readLabeledRows(options.val, fields)};
  const {train, val} = holdout(all);
  options.onInfo?.(`validation: ${val.length} rows held out of ${options.data} (10%, by text hash)`);
  return {trainRows: train, valRows: val};
}
