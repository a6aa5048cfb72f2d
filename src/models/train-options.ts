import type {GraphStepReport} from '../train/graph-step.js';
import type {TrainOptions} from '../train/train-options.js';
import type {EpochEvent, EvalEvent, StepEvent, TrainResult} from '../train/trainer.js';

/** What `train` asks of a model family (classify, lm): the same options for each. */
export interface TrainRunOptions {
  /** Training data file (JSONL, CSV/TSV, or .txt for language models). */
  data: string;
  /** Validation file; without it the family holds out a deterministic 10% of `data`. */
  val?: string;
  /** Run folder to write (runs/NAME). */
  out: string;
  /** Model preset name (`tiny`, `small`). */
  preset?: string;
  /** YAML/JSON model config file, over the preset. */
  configFile?: string;
  /** Model config keys from flags, over the file (undefined values ignored). */
  overrides?: Record<string, unknown>;
  /** Tokenizer: a tokenizer.json to use instead of training one. */
  tokenizer?: string;
  /** Vocabulary size of the tokenizer trained on the data. */
  vocabSize?: number;
  textField?: string;
  labelField?: string;
  /** Numeric feature columns (classify): train a feature classifier on them instead of a text model. */
  features?: string[];
  /** Field of per-row sample weights (≥ 0; rows without it weigh 1). Default `weight`. */
  weightField?: string;
  /** `balanced`: also weigh each training row by n / (k · rows of its class), as scikit-learn. Default none. */
  classWeights?: 'none' | 'balanced';
  /** A malformed row (classify): `fail` (default) stops with its DatasetError; `skip` leaves it out with a warning. */
  onError?: 'fail' | 'skip';
  epochs?: number;
  steps?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  gradAccum?: number;
  clipNorm?: number;
  warmupSteps?: number;
  weightDecay?: number;
  /** Validate every N steps, or each epoch. */
  evalEvery?: number | 'epoch';
  /** Early-stopping patience in evaluations (0: off). */
  patience?: number;
  checkpointEvery?: number | 'epoch';
  tensorboardDir?: string;
  resume?: boolean;
  overwrite?: boolean;
  signal?: AbortSignal;
  onStep?: (event: StepEvent) => void;
  onEval?: (event: EvalEvent) => void;
  onEpoch?: (event: EpochEvent) => void;
  onCheckpoint?: (event: {step: number; path: string}) => void;
  /** Human-readable notes (tokenizer trained, holdout size, warnings). */
  onInfo?: (message: string) => void;
}

export interface TrainRunReport {
  task: string;
  out: string;
  steps: number;
  epochs: number;
  stopped_by: string;
  seconds: number;
  final_loss: number;
  /** Validation metrics (`val_loss`, `val_acc`…) of the model as saved: the best evaluation when early stopping restored its weights, else the last. */
  validation?: Record<string, number>;
  parameters: number;
  train_examples: number;
  val_examples: number;
  tokens_per_s: number;
  resumed_from?: number;
  /** On tfjs-node: steps replayed as one captured TensorFlow function, steps run op by op, and why. */
  graph_steps?: GraphStepReport;
}

/**
 * What `train` reports of a finished run, for every family. `validation` is the evaluation of the
 * model as saved: the best one when early stopping restored its weights, else the last.
 */
export function trainRunReport(
  task: string,
  out: string,
  result: TrainResult,
  counts: {parameters: number; trainExamples: number; valExamples: number},
): TrainRunReport {
  return {
    task,
    out,
    steps: result.steps,
    epochs: result.epochsCompleted,
    stopped_by: result.stoppedBy,
    seconds: result.seconds,
    final_loss: result.finalLoss,
    validation: result.best?.metrics ?? result.lastEval,
    parameters: counts.parameters,
    train_examples: counts.trainExamples,
    val_examples: counts.valExamples,
    tokens_per_s: result.tokensPerSecond,
    resumed_from: result.resumedFrom,
    graph_steps: result.graphSteps,
  };
}

/**
 * The training-engine settings every family takes from the run options as they are: length, data
 * order, schedule, clipping, checkpoints, resume, TensorBoard and the progress callbacks.
 */
export function engineOptions(
  o: TrainRunOptions,
): Pick<
  TrainOptions,
  | 'seed'
  | 'epochs'
  | 'steps'
  | 'gradAccum'
  | 'clipNorm'
  | 'schedule'
  | 'evalEvery'
  | 'runDir'
  | 'checkpointEvery'
  | 'resume'
  | 'tensorboardDir'
  | 'signal'
  | 'onStep'
  | 'onEval'
  | 'onEpoch'
  | 'onCheckpoint'
  | 'onWarning'
> {
  return {
    seed: o.seed ?? 42,
    epochs: o.epochs ?? 3, // train's flag default before kinds chose their own schedules
    steps: o.steps,
    gradAccum: o.gradAccum,
    clipNorm: o.clipNorm ?? 1,
    schedule: {warmupSteps: o.warmupSteps ?? 0},
    evalEvery: o.evalEvery,
    runDir: o.out,
    checkpointEvery: o.checkpointEvery,
    resume: o.resume,
    tensorboardDir: o.tensorboardDir,
    signal: o.signal,
    onStep: o.onStep,
    onEval: o.onEval,
    onEpoch: o.onEpoch,
    onCheckpoint: o.onCheckpoint,
    onWarning: (m) => o.onInfo?.(`warning: ${m}`),
  };
}
