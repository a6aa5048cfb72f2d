import {classifierLoss} from '../classify/classifier-training.js';
import type {FeatureClassifierMetadata} from '../export-metadata.js';
import type {ModelKind, ModelMetadata} from '../model-kind.js';
import {
  DEFAULT_FEATURE_CLASSIFIER_CONFIG,
  FEATURE_CLASSIFIER_PRESET_SUMMARIES,
} from './feature-classifier.js';
import {predictFeatureRows} from './feature-classifier-predict.js';
import {
  asFeatureClassifierRun,
  classifyFeatureRows,
  evaluateFeatureClassifier,
  type FeatureClassifierRun,
  featureClassifierAccuracy,
  isFeatureRun,
} from './feature-classifier-run.js';
import {readFeatureClassifierData, trainFeatureClassifier} from './feature-classifier-train.js';
import {featureHoldout, readFeatureRows} from './feature-data.js';

/** Numeric columns → label: standardized features, an MLP or MoE-MLP, logits. */
export const featureClassifierKind: ModelKind<FeatureClassifierRun> = {
  id: 'feature-classifier',
  task: 'classify',
  summary: 'numeric columns → label: standardized features, residual MLP or MoE-MLP blocks, logits',
  trainFlags: '--task classify --features COLS',
  presets: FEATURE_CLASSIFIER_PRESET_SUMMARIES,
  owns: isFeatureRun,
  trains: (task, options) => task === 'classify' && (options.features?.length ?? 0) > 0,
  train: trainFeatureClassifier,
  output: 'class-logits',
  requiredModelKeys: [],
  open: asFeatureClassifierRun,
  readData: readFeatureClassifierData,
  loss: classifierLoss,
  evaluate: evaluateFeatureClassifier,
  metric: featureClassifierAccuracy,
  validationRows: async (run, {data, val}) => {
    const options = {features: run.stats.columns, labelField: run.labelField, onError: 'skip' as const};
    const rows = val
      ? await readFeatureRows(val, options)
      : featureHoldout(await readFeatureRows(data, options)).val;
    const d = rows.columns.length;
    return Array.from({length: rows.n}, (_, i) =>
      Object.fromEntries(rows.columns.map((c, j) => [c, rows.x[i * d + j]!])),
    );
  },
  metadata: (run): ModelMetadata => ({
    kind: 'feature-classifier',
    task: 'classify',
    input: {name: 'features', dtype: 'float32', shape: [null, run.stats.columns.length]},
    output: 'class-logits',
    labels: [...run.labels],
    features: {columns: [...run.stats.columns], mean: [...run.stats.mean], std: [...run.stats.std]},
    labelField: run.labelField,
  }),
  exportRunConfig: (meta) => {
    const m = meta as FeatureClassifierMetadata;
    return {
      task: 'classify',
      model: DEFAULT_FEATURE_CLASSIFIER_CONFIG,
      features: m.features,
      data: {labelField: m.labelField},
    };
  },
  classify: classifyFeatureRows,
  predict: predictFeatureRows,
};
