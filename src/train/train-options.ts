import type * as tf from '@tensorflow/tfjs';
import {ConfigError, ModelError} from '../errors.js';
import type {AdamWOptions} from './adamw.js';
import type {Batch, BatchSource} from './batch-source.js';
import type {EarlyStoppingOptions} from './early-stopping.js';
import type {GraphStepReport} from './graph-step.js';
import type {LrSchedule} from './schedule.js';
import type {TrainableModel} from './trainable.js';

/** What a loss function knows of the step it runs in. */
export interface StepContext {
  /** False during validation: no dropout. */
  training: boolean;
  step: number;
  epoch: number;
  /** A seed for this step's randomness (dropout masks, sampling): same run seed and step, same masks. */
  seed: number;
}

/** A loss, optionally with metrics computed in the same forward pass (`acc`…), all scalars. */
export type LossOutput = tf.Scalar | {loss: tf.Scalar; metrics?: Record<string, tf.Scalar>};

/** Forward pass + loss for one batch; runs under the gradient tape, so build the graph inside it. */
export type LossFn = (batch: Batch, ctx: StepContext) => LossOutput;

export interface TrainOptions {
  model: TrainableModel;
  loss: LossFn;
  data: BatchSource;
  /** Validation batches (read as epoch 0); metrics come back as `val_loss`, `val_<metric>`. */
  validation?: BatchSource;
  /** Replaces the default validation (e.g. to report macro-F1); its keys are the metric names. */
  evaluate?: (ctx: {step: number; epoch: number}) => Promise<Record<string, number>>;
  /** Run seed: data order and step seeds. Default 42. */
  seed?: number;
  /** Passes over the data. Default 1; ignored when `steps` is set. */
  epochs?: number;
  /** Optimizer steps to train for, across epochs as needed. */
  steps?: number;
  /** Batches per optimizer step (gradient accumulation). Default 1. */
  gradAccum?: number;
  /** Clip the global gradient norm to this (0: off). Default 0. */
  clipNorm?: number;
  /** Peak learning rate. Default 1e-3. */
  lr?: number;
  schedule?: Omit<LrSchedule, 'lr' | 'totalSteps'>;
  optimizer?: AdamWOptions;
  /** Validate every N steps, or at the end of each epoch. Default 'epoch'. */
  evalEvery?: number | 'epoch';
  earlyStopping?: EarlyStoppingOptions;
  /** Folder for `metrics.jsonl` and `checkpoints/`; without it nothing is written. */
  runDir?: string;
  /** Checkpoint every N steps or every epoch (and always at the end). Default 'epoch'. */
  checkpointEvery?: number | 'epoch';
  /** Checkpoints kept. Default 3. */
  keepCheckpoints?: number;
  /** Continue from the run folder's latest checkpoint. */
  resume?: boolean;
  /** Read losses back from the backend every N steps (events and log lines come in bursts of N). Default 10. */
  logEvery?: number;
  /** Also write TensorBoard event files here. */
  tensorboardDir?: string;
  /** Stop cleanly (checkpoint, then return) when aborted, e.g. on Ctrl-C. */
  signal?: AbortSignal;
  onStep?: (event: StepEvent) => void;
  onEval?: (event: EvalEvent) => void;
  onEpoch?: (event: EpochEvent) => void;
  onCheckpoint?: (event: {step: number; path: string}) => void;
  onWarning?: (message: string) => void;
  /** Code to run at fixed points of every step (pruning masks, quantization-aware training). */
  hooks?: readonly TrainHook[];
}

/**
 * What an extension of training does, and when: `beforeStep` before a step's forward passes (after
 * the previous update), `beforeUpdate` once the step's gradients are taken and before the optimizer
 * applies them, `beforeEval`/`afterEval` around a validation, `end` when training stops, normally or
 * not. Pruning holds its masks in `beforeStep`; quantization-aware training swaps the quantized
 * weights in there (and for validation) and puts the float masters back in `beforeUpdate`.
 */
export interface TrainHook {
  /** `step`: the step about to run (1-based). */
  beforeStep?(step: number): void;
  beforeUpdate?(step: number): void;
  beforeEval?(): void;
  afterEval?(): void;
  end?(): void;
}

export interface StepEvent {
  step: number;
  totalSteps: number;
  epoch: number;
  loss: number;
  lr: number;
  /** Global gradient norm before clipping (only when clipping). */
  gradNorm?: number;
  metrics: Record<string, number>;
  examples: number;
  tokens: number;
  tokensPerSecond: number;
  stepsPerSecond: number;
  /** Seconds since the run started (resumed runs continue the count). */
  elapsed: number;
  /** Seconds left at the current speed. */
  eta: number;
}

export interface EvalEvent {
  step: number;
  epoch: number;
  metrics: Record<string, number>;
  /** With early stopping: whether this evaluation is the best so far. */
  improved?: boolean;
}

export interface EpochEvent {
  /** The epoch that ended (0-based). */
  epoch: number;
  step: number;
  /** Mean training loss and metrics over the epoch's steps. */
  loss: number;
  metrics: Record<string, number>;
}

export interface TrainResult {
  steps: number;
  epochsCompleted: number;
  stoppedBy: 'steps' | 'early_stopping' | 'aborted';
  /** Training loss of the last step. */
  finalLoss: number;
  lastEval?: Record<string, number>;
  /** With early stopping: the best evaluation, and all its metrics (the weights the model ends with when restored). */
  best?: {metric: string; value: number; step: number; metrics?: Record<string, number>};
  /** Training throughput of this process (resumed runs: since resuming). */
  tokensPerSecond: number;
  seconds: number;
  lastCheckpoint?: string;
  resumedFrom?: number;
  /**
   * On tfjs-node with step capture (DSK_GRAPH_STEP unset or not 0): steps replayed as one TensorFlow
   * function, steps run op by op, and why.
   */
  graphSteps?: GraphStepReport;
}

function positiveInt(value: number | undefined, name: string): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
    throw new ConfigError(`${name} must be a whole number ≥ 1, got ${value}`);
  }
}

/** Throws a ConfigError (or ModelError) naming the first setting that cannot work. */
export function checkTrainOptions(o: TrainOptions): void {
  const params = o.model.trainable;
  if (params.length === 0) throw new ModelError('the model has no trainable variables');
  if (new Set(params.map((p) => p.variable.name)).size !== params.length) {
    throw new ModelError('two trainable entries share one variable');
  }
  if (o.data.batchesPerEpoch < 1)
    throw new ConfigError('the training data has no batches', 'check the data file');
  positiveInt(o.gradAccum, 'gradAccum');
  positiveInt(o.logEvery, 'logEvery');
  positiveInt(o.steps, 'steps');
  positiveInt(o.epochs, 'epochs');
  if (typeof o.evalEvery === 'number') positiveInt(o.evalEvery, 'evalEvery');
  if (typeof o.checkpointEvery === 'number') positiveInt(o.checkpointEvery, 'checkpointEvery');
  if (o.lr !== undefined && !(o.lr > 0)) throw new ConfigError(`learning rate must be above 0, got ${o.lr}`);
  if (!((o.clipNorm ?? 0) >= 0)) throw new ConfigError(`clip norm must be ≥ 0 (0: off), got ${o.clipNorm}`);
  if (o.resume && !o.runDir) throw new ConfigError('resume needs a run folder');
  if (o.earlyStopping && !o.validation && !o.evaluate) {
    throw new ConfigError(`early stopping on ${o.earlyStopping.metric} needs validation data`);
  }
}
