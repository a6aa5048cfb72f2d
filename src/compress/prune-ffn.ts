import type * as tf from '@tensorflow/tfjs';
import {ConfigError, ModelError} from '../errors.js';
import {type RebuildPlan, rebuildWith, sliceL1, topIndices} from './prune-rebuild.js';

/** What structured pruning removed from each SwiGLU FFN. */
export interface FfnPruneStats {
  /** Block name (`block0`). */
  layer: string;
  hidden_before: number;
  hidden_after: number;
}

/** The DecoderBlocks of `model` whose feed-forward is a dense SwiGLU (not MoE). */
export function denseFfnBlocks(model: tf.LayersModel): tf.layers.Layer[] {
  return model.layers.filter(
    (l) => l.getClassName() === 'DecoderBlock' && (l.getConfig() as {ffn?: string}).ffn === 'dense',
  );
}

/** Throws unless `amount` is a fraction strictly between 0 and 1. */
export function checkAmount(amount: number): void {
  if (!(amount > 0 && amount < 1)) {
    throw new ConfigError(`structured pruning: --sparsity must be in (0, 1), got ${amount}`);
  }
}

/** Refuses a layer that still carries LoRA adapters: its base weights are not what it computes. */
export function refuseLoRA(layer: tf.layers.Layer): void {
  if ((layer.getConfig() as {lora?: unknown}).lora) {
    throw new ModelError(
      `block ${layer.name} has LoRA adapters`,
      'fuse the adapters into the base weights before structured pruning',
    );
  }
}

/** How many of `n` slices pruning the fraction `amount` keeps: round((1 − amount)·n), at least 1. */
export function keptCount(n: number, amount: number): number {
  return Math.max(1, Math.round((1 - amount) * n));
}

/**
 * Plans the removal of the fraction `amount` of the hidden neurons of every dense SwiGLU FFN in
 * the model's DecoderBlocks: neuron j is column j of `gate` and `up` and row j of `down` (and entry
 * j of their biases), scored by the L1 norm of the three kernels' slices (Li et al. 2017, "Pruning
 * Filters for Efficient ConvNets", ranks whole filters by L1). Every block keeps the same count,
 * round((1 − amount)·H), so the run's single `ffnHidden` still describes the model.
 */
export function planFfnNeurons(model: tf.LayersModel, amount: number, plan: RebuildPlan): FfnPruneStats[] {
  checkAmount(amount);
  const blocks = denseFfnBlocks(model);
  if (blocks.length === 0) {
    throw new ModelError(
      'structured pruning found no dense SwiGLU feed-forward to shrink',
      "models without transformer blocks (the 'bag' preset) have none; use --method magnitude, or --method experts for MoE models",
    );
  }
  const byName = new Map(model.weights.map((w) => [w.originalName, w]));
  return blocks.map((block) => {
    refuseLoRA(block);
    const hidden = (block.getConfig() as {ffnHidden: number}).ffnHidden;
    const kept = keptCount(hidden, amount);
    const w = (site: string, part = 'kernel') => byName.get(`${block.name}/ffn/${site}/${part}`);
    const [gate, up, down] = [w('gate'), w('up'), w('down')];
    if (!gate || !up || !down) throw new ModelError(`block ${block.name}: no ffn gate/up/down kernels`);
    const [g, u, d] = [sliceL1(gate.read(), 0), sliceL1(up.read(), 0), sliceL1(down.read(), 1)];
    const index = topIndices(
      g.map((x, j) => x + u[j]! + d[j]!),
      kept,
    );
    for (const site of ['gate', 'up']) {
      plan.keep(w(site)!, index, 1);
      const bias = w(site, 'bias');
      if (bias) plan.keep(bias, index, 0);
    }
    plan.keep(down, index, 0);
    plan.config(block.name, {ffn_hidden: kept});
    return {layer: block.name, hidden_before: hidden, hidden_after: kept};
  });
}

/**
 * Removes the fraction `amount` of the FFN neurons of every DecoderBlock (see `planFfnNeurons`).
 * Returns a new, smaller model (same outputs on the kept neurons; `model` is left as it was) and
 * the sizes per block.
 */
export async function pruneFfnNeurons(
  model: tf.LayersModel,
  amount: number,
): Promise<{model: tf.LayersModel; layers: FfnPruneStats[]}> {
  const {model: pruned, stats} = await rebuildWith(model, (plan) => planFfnNeurons(model, amount, plan));
  return {model: pruned, layers: stats};
}
