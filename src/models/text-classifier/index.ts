/**
 * The text classifier kind: its model (token embedding, pre-norm blocks or none, masked mean pool, logits)
 * with config and presets, the preset and schedule chosen from the data (classifier-plan), training into a run folder, the opened run (classify texts, evaluate, predict),
 * distillation from a classifier teacher and its teacher-logit cache.
 */
export * from './classifier.js';
export * from './classifier-baseline.js';
export * from './classifier-plan.js';
export * from './classifier-run.js';
export {
  classifierFinetuneData,
  readClassifierData,
  resolveClassifierConfig,
  trainClassifier,
} from './classifier-train.js';
export {distillClassifier} from './distill-classifier.js';
export * from './distill-data.js';
export * from './teacher-cache.js';
export * from './text-classifier-kind.js';
