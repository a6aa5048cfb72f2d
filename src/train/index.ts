/**
 * The training engine: the AdamW trainer with its schedule, clipping, gradient accumulation, checkpoints
 * and resume, early stopping, metrics.jsonl and TensorBoard logging, per-step hooks, batch sources, losses
 * (distillation included), the seeded-random helper and the MoE routing monitor. On tfjs-node a
 * one-batch step runs as one captured TensorFlow function (graph-step.ts). It trains any set of
 * variables with any loss; it knows nothing of model kinds or run folders.
 */
export {AdamW, type AdamWOptions, type AdamWState} from './adamw.js';
export {
  type ArrayBatchSourceOptions,
  arrayBatchSource,
  type Batch,
  type BatchSource,
  disposeBatch,
  epochOrder,
} from './batch-source.js';
export {
  type CheckpointContent,
  listCheckpoints,
  loadLatestCheckpoint,
  saveCheckpoint,
  type TrainerState,
} from './checkpoint.js';
export {clipByGlobalNorm, globalNorm} from './clip.js';
export * from './distill-loss.js';
export {TrainingDivergedError} from './diverged-error.js';
export type {EarlyStoppingOptions} from './early-stopping.js';
export {type GraphStepReport, graphStepsEnabled} from './graph-step.js';
export {
  accuracy,
  balancedClassWeights,
  modelLosses,
  sparseCrossEntropy,
  weightedMean,
} from './losses.js';
export {MetricsLog, type MetricsRecord} from './metrics-log.js';
export * from './moe-monitor.js';
export type {NamedTensor, NamedVariable} from './named-variable.js';
export {type LrDecay, type LrSchedule, learningRateAt} from './schedule.js';
export {EventFileWriter} from './tensorboard.js';
export {type TrainableModel, trainableFromLayersModel, trainableFromVariables} from './trainable.js';
export * from './trainer.js';
