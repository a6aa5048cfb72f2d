import * as tf from '@tensorflow/tfjs';
import type {BatchSource} from '../train/batch-source.js';
import {trainableFromLayersModel} from '../train/trainable.js';
import {type LossFn, type StepEvent, type TrainHook, train} from '../train/trainer.js';
import {applyMasks, maskTensors, type PruneScope} from './prune-magnitude.js';
import {isPruningStep, type PruneSchedule, scheduledSparsity} from './prune-schedule.js';

export interface MaskedFinetuneOptions {
  model: tf.LayersModel;
  /** The weights being pruned. */
  targets: readonly tf.LayerVariable[];
  loss: LossFn;
  data: BatchSource;
  steps: number;
  /** Sparsity by step: gradual (Zhu & Gupta), or `{final: s, end: 0}` to prune at once and then fine-tune. */
  schedule: PruneSchedule;
  scope: PruneScope;
  lr?: number;
  seed?: number;
  weightDecay?: number;
  onStep?: (event: StepEvent) => void;
}

/**
 * Fine-tunes `model` while its `targets` are pruned by magnitude on `schedule`. The masks are
 * recomputed at the schedule's pruning steps (a weight pruned once is zero, so it stays among the
 * smallest and stays pruned) and written into the weights before every forward pass, i.e. after
 * each optimizer step, and once more when training ends: the result has exactly the final sparsity.
 */
export async function finetuneWithMasks(
  options: MaskedFinetuneOptions,
): Promise<{steps: number; finalLoss: number; seconds: number}> {
  const {targets, scope, schedule} = options;
  let masks: tf.Tensor[] = [];
  let maskedAt = -1;
  const remask = (step: number) => {
    const next = maskTensors(targets, scheduledSparsity(step, schedule), scope).map((m) => tf.keep(m));
    tf.dispose(masks);
    masks = next;
    maskedAt = step;
  };
  remask(0);
  applyMasks(targets, masks);
  // Masks are written into the weights before every training step's forward pass.
  const hook: TrainHook = {
    beforeStep: (step) => {
      if (step !== maskedAt && isPruningStep(step, schedule)) remask(step);
      applyMasks(targets, masks);
    },
  };
  try {
    const result = await train({
      model: trainableFromLayersModel(options.model),
      loss: options.loss,
      hooks: [hook],
      data: options.data,
      steps: options.steps,
      seed: options.seed ?? 42,
      lr: options.lr,
      // Fresh AdamW moments on a trained model: a short warm-up keeps the first steps from undoing it.
      schedule: {warmupSteps: Math.floor(options.steps / 10)},
      clipNorm: 1,
      optimizer: {weightDecay: options.weightDecay ?? 0},
      onStep: options.onStep,
    });
    if (maskedAt < schedule.end) remask(schedule.end);
    applyMasks(targets, masks);
    return {steps: result.steps, finalLoss: result.finalLoss, seconds: result.seconds};
  } finally {
    tf.dispose(masks);
  }
}
