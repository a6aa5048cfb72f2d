/**
 * The numeric-feature classifier kind: its model (standardized features, residual MLP or MoE-MLP blocks,
 * logits) with config and presets, reading numeric rows, training into a run folder, the opened run
 * (classify rows, evaluate, predict to CSV/TSV/JSONL).
 */
export * from './feature-classifier.js';
export * from './feature-classifier-kind.js';
export * from './feature-classifier-predict.js';
export * from './feature-classifier-run.js';
export {
  encodeFeatureRows,
  featureBatchSource,
  readFeatureClassifierData,
  resolveFeatureClassifierConfig,
  trainFeatureClassifier,
} from './feature-classifier-train.js';
export * from './feature-data.js';
