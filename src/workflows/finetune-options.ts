import type {QatDtype} from '../compress/qat.js';
import type {TrainRunOptions} from '../models/train-options.js';

/**
 * Default LoRA targets: every attention projection and the FFN's down projection — on an MoE FFN,
 * the routed experts' down projections (one adapter per expert) and the shared experts'. At rank 8
 * on the classifier `small` preset that trains 1.95% of the parameters (with the head: 12,032 + 130
 * of 624,770); adding gate/up too would train 3.1%, attention alone 1.3%. With `ffn: moe` (4
 * experts + 1 shared) it trains 2.70% (18,432 + 130 of 686,978); on the causal-lm `small-moe`
 * preset (8 experts + 1 shared, 4 blocks) 3.99% (106,496 of 2,667,648; dense `small`: 3.51%).
 */
export const DEFAULT_LORA_TARGETS = 'attn/(q|k|v|o)$|ffn/down$|(experts|shared)/down$';

/** The training settings finetune shares with train: data, output, schedule, checkpoints, callbacks. */
type SharedTrainOptions = Pick<
  TrainRunOptions,
  | 'data'
  | 'val'
  | 'out'
  | 'textField'
  | 'labelField'
  | 'epochs'
  | 'steps'
  | 'seed'
  | 'gradAccum'
  | 'warmupSteps'
  | 'weightDecay'
  | 'clipNorm'
  | 'evalEvery'
  | 'checkpointEvery'
  | 'tensorboardDir'
  | 'resume'
  | 'overwrite'
  | 'signal'
  | 'onStep'
  | 'onEval'
  | 'onEpoch'
  | 'onCheckpoint'
  | 'onInfo'
>;

/**
 * What `finetune` takes: a trained run (`model`), new data (`data`, optional `val`: else a
 * deterministic 10% holdout) and a run folder `out`, plus how to adapt. Weight decay defaults to 0.
 */
export interface FinetuneOptions extends SharedTrainOptions {
  /** Run folder of the base model (runs/BASE). */
  model: string;
  /** `lora`: train low-rank adapters on a frozen base (default); `full`: train every weight. */
  method?: 'lora' | 'full';
  /** LoRA rank. Default 8. */
  rank?: number;
  /** LoRA alpha (scale alpha/rank). Default 2 × rank. */
  alpha?: number;
  /** Dropout on the adapters' input. Default 0. */
  dropout?: number;
  /** Rank-stabilised scaling alpha/sqrt(rank). Default false. */
  rslora?: boolean;
  /** Regular expression over layer paths (`block0/attn/q`) that get adapters. Default DEFAULT_LORA_TARGETS. */
  targets?: string;
  /** Regular expression over layer paths kept fixed (`embed|block0`). */
  freeze?: string;
  /** Also write a merged plain model (LoRA fused in fp32) to `<out>/merged`. */
  merge?: boolean;
  /** Replace the classifier head with one over the fine-tuning data's labels. */
  newHead?: boolean;
  /** Default: the base run's batch size. */
  batchSize?: number;
  /** Peak learning rate. Default 1e-3 for LoRA, 1e-4 for full fine-tuning. */
  lr?: number;
  /**
   * Quantization-aware fine-tuning (full only): forward passes on the weights as `quantize --dtype`
   * this stores them, gradients applied to float masters (straight-through).
   */
  qat?: QatDtype;
}

export interface FinetuneReport {
  task: string;
  method: 'lora' | 'full';
  out: string;
  base: string;
  /** Parameters the optimizer updated, and all of the model's (adapters included). */
  trainable_params: number;
  total_params: number;
  /** LoRA: the adapted layer paths. */
  targets: string[];
  /** Layers held fixed by `freeze`. */
  frozen: string[];
  labels?: string[];
  new_head: boolean;
  steps: number;
  epochs: number;
  stopped_by: string;
  seconds: number;
  final_loss: number;
  /** Last validation metrics (`val_loss`, `val_acc`…). */
  validation?: Record<string, number>;
  train_examples: number;
  val_examples: number;
  /** Bytes of the saved adapter (LoRA). */
  adapter_bytes?: number;
  /** Run folder of the merged model (with `merge`). */
  merged?: string;
  resumed_from?: number;
  /** The encoding fine-tuned for (`qat`), and the weights trained through it. */
  qat?: string;
  qat_weights?: number;
}
