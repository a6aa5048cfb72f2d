import * as tf from '@tensorflow/tfjs';
import {ConfigError} from '../../errors.js';
import {
  checkRunFolderUsable,
  prepareRunFolder,
  type RunConfig,
  saveRunArtifacts,
} from '../../run/run-folder.js';
import {arrayBatchSource, type BatchSource} from '../../train/batch-source.js';
import {onStepWithRoutingAlarm} from '../../train/moe-monitor.js';
import {withSeededRandom} from '../../train/seeded-random.js';
import {trainableFromLayersModel} from '../../train/trainable.js';
import {train} from '../../train/trainer.js';
import {
  classifierLoss,
  classifierReport,
  classWeighted,
  skipSettings,
  trainingSettings,
  weightSettings,
} from '../classify/classifier-training.js';
import {checkKnownLabels, type LabeledRow, labelSet} from '../classify/labeled-data.js';
import {loadModelConfig} from '../model-config.js';
import type {KindData, ReadDataOptions} from '../model-kind.js';
import {checkMoEConfig, OPTIONAL_CONFIG_KEYS} from '../moe-config.js';
import {engineOptions, type TrainRunOptions, type TrainRunReport} from '../train-options.js';
import {
  buildFeatureClassifier,
  DEFAULT_FEATURE_CLASSIFIER_CONFIG,
  FEATURE_CLASSIFIER_PRESETS,
  type FeatureClassifierConfig,
  type FeatureStats,
  fitFeatureStats,
  standardize,
} from './feature-classifier.js';
import type {FeatureClassifierRun} from './feature-classifier-run.js';
import {type FeatureRows, featureHoldout, readFeatureRows} from './feature-data.js';

/** Model-ready rows: standardized x [n × d] row-major, class ids, weights. */
export interface EncodedFeatures {
  x: Float32Array;
  labels: Int32Array;
  weights: Float32Array;
  n: number;
  d: number;
}

/** Rows standardized by `stats`, class ids in `labels` order. */
export function encodeFeatureRows(
  rows: FeatureRows,
  labels: readonly string[],
  stats: FeatureStats,
): EncodedFeatures {
  const index = new Map(labels.map((l, i) => [l, i]));
  return {
    x: standardize(rows.x, stats),
    labels: Int32Array.from(rows.labels, (l) => index.get(l)!),
    weights: rows.weights,
    n: rows.n,
    d: rows.columns.length,
  };
}

/** Batches of encoded rows: features [b, d] float32, class ids [b] int32, weights [b]. */
export function featureBatchSource(
  data: EncodedFeatures,
  batchSize: number,
  seed: number,
  shuffle: boolean,
): BatchSource {
  const {d} = data;
  return arrayBatchSource(
    Array.from({length: data.n}, (_, i) => i),
    {
      batchSize,
      seed,
      shuffle,
      collate: (picked) => {
        const x = new Float32Array(picked.length * d);
        for (const [j, row] of picked.entries()) x.set(data.x.subarray(row * d, (row + 1) * d), j * d);
        return {
          inputs: tf.tensor2d(x, [picked.length, d]),
          targets: tf.tensor1d(
            Int32Array.from(picked, (r) => data.labels[r]!),
            'int32',
          ),
          weights: tf.tensor1d(Float32Array.from(picked, (r) => data.weights[r]!)),
        };
      },
    },
  );
}

/** The feature classifier's config from preset, file and flags. */
export async function resolveFeatureClassifierConfig(
  options: TrainRunOptions,
): Promise<FeatureClassifierConfig> {
  const overrides = Object.fromEntries(
    Object.entries(options.overrides ?? {}).filter(([, v]) => v !== undefined),
  );
  if ('maxLen' in overrides)
    throw new ConfigError('--max-len is for text classifiers', 'drop it with --features');
  const config = await loadModelConfig({
    optional: OPTIONAL_CONFIG_KEYS,
    family: 'feature-classifier',
    defaults: DEFAULT_FEATURE_CLASSIFIER_CONFIG,
    presets: FEATURE_CLASSIFIER_PRESETS,
    preset: options.preset,
    configFile: options.configFile,
    overrides: overrides as Partial<FeatureClassifierConfig>,
  });
  return checkMoEConfig(config);
}

const asLabeled = (rows: FeatureRows): LabeledRow[] =>
  rows.labels.map((label, i) => ({text: '', label, weight: rows.weights[i]!}));

/**
 * Trains a classifier on the numeric columns `options.features` of a CSV/TSV/JSONL file into the
 * run folder `options.out`: features standardized with the training rows' mean and std (kept in
 * config.json as `features`), an MLP or MoE-MLP, the weighted cross-entropy of the text classifier.
 */
export async function trainFeatureClassifier(options: TrainRunOptions): Promise<TrainRunReport> {
  const features = options.features ?? [];
  if (features.length === 0) throw new ConfigError('no feature columns', 'pass --features col1,col2,…');
  const twice = features.find((f, i) => features.indexOf(f) !== i);
  if (twice) throw new ConfigError(`--features names "${twice}" twice`);
  if (options.tokenizer || options.vocabSize) {
    throw new ConfigError('--tokenizer and --vocab-size are for text', 'numeric features need no tokenizer');
  }
  await checkRunFolderUsable(options.out, options);
  const config = await resolveFeatureClassifierConfig(options);
  const seed = options.seed ?? 42;
  const labelField = options.labelField ?? 'label';
  const read = {features, labelField, weightField: options.weightField, ...skipSettings(options)};
  let trainRows = await readFeatureRows(options.data, read);
  let valRows: FeatureRows;
  if (options.val) {
    valRows = await readFeatureRows(options.val, read);
  } else {
    ({train: trainRows, val: valRows} = featureHoldout(trainRows));
    options.onInfo?.(`validation: ${valRows.n} rows held out of ${options.data} (10%, by row hash)`);
  }
  const labels = labelSet(asLabeled(trainRows), options.data);
  if (options.val) checkKnownLabels(asLabeled(valRows), labels, options.val);
  const stats = fitFeatureStats(features, trainRows.x);

  const batchSize = options.batchSize ?? 32;
  const runConfig: RunConfig = {
    task: 'classify',
    model: config,
    labels,
    features: stats,
    data: {train: options.data, val: options.val ?? null, labelField, ...weightSettings(options)},
    training: trainingSettings(options, batchSize, seed),
  };
  const trainData = classWeighted(encodeFeatureRows(trainRows, labels, stats), labels.length, options);
  const valData = encodeFeatureRows(valRows, labels, stats);
  const model = withSeededRandom(seed, () => buildFeatureClassifier(config, features.length, labels.length));
  try {
    await prepareRunFolder(options.out, runConfig, options);
    if (!options.resume) await saveRunArtifacts(options.out, {labels});
    const result = await train({
      ...engineOptions(options),
      onStep: onStepWithRoutingAlarm(model, options),
      model: trainableFromLayersModel(model),
      loss: classifierLoss(model),
      data: featureBatchSource(trainData, batchSize, seed, true),
      validation: valData.n > 0 ? featureBatchSource(valData, batchSize, seed, false) : undefined,
      lr: options.lr,
      optimizer: {weightDecay: options.weightDecay ?? 0.01},
      earlyStopping:
        options.patience && valData.n > 0 ? {metric: 'val_loss', patience: options.patience} : undefined,
    });
    await saveRunArtifacts(options.out, {model, labels});
    return classifierReport(options.out, result, model, trainData.n, valData.n);
  } finally {
    model.dispose();
  }
}

/** Labeled rows of `file` with the run's feature columns, standardized by its statistics. */
export async function readFeatureClassifierData(
  run: FeatureClassifierRun,
  file: string,
  options: ReadDataOptions,
): Promise<KindData> {
  const rows = await readFeatureRows(file, {features: run.stats.columns, labelField: run.labelField});
  checkKnownLabels(asLabeled(rows), run.labels, file);
  const encoded = encodeFeatureRows(rows, run.labels, run.stats);
  return {
    source: featureBatchSource(encoded, options.batchSize, options.seed, options.shuffle),
    examples: encoded.n,
  };
}
