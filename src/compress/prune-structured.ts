import * as tf from '@tensorflow/tfjs';
import {ConfigError, ModelError} from '../errors.js';
import {rebuildModel, topIndices} from './prune-rebuild.js';

/** What structured pruning removed from each SwiGLU FFN. */
export interface FfnPruneStats {
  /** Block name (`block0`). */
  layer: string;
  hiddenBefore: number;
  hiddenAfter: number;
}

/**
 * Removes the fraction `amount` of the hidden neurons of every dense SwiGLU FFN in the model's
 * DecoderBlocks: neuron j is column j of `gate` and `up` and row j of `down` (and entry j of their
 * biases), scored by the L1 norm of all three (Li et al. 2017, "Pruning Filters for Efficient
 * ConvNets", ranks whole filters by L1). Every block keeps the same count, round((1 − amount)·H),
 * so the run's single `ffnHidden` still describes the model. Returns a new, smaller model (same
 * outputs on the kept neurons; `model` is left as it was) and the sizes per block.
 */
export async function pruneFfnNeurons(
  model: tf.LayersModel,
  amount: number,
): Promise<{model: tf.LayersModel; layers: FfnPruneStats[]}> {
  if (!(amount > 0 && amount < 1)) {
    throw new ConfigError(`structured pruning: --sparsity must be in (0, 1), got ${amount}`);
  }
  const blocks = model.layers.filter(
    (l) => l.getClassName() === 'DecoderBlock' && (l.getConfig() as {ffn?: string}).ffn === 'dense',
  );
  if (blocks.length === 0) {
    throw new ModelError(
      'structured pruning found no dense SwiGLU feed-forward to shrink',
      "models without transformer blocks (the 'bag' preset) have none; use --method magnitude, or --method experts for MoE models",
    );
  }
  const byName = new Map(model.weights.map((w) => [w.originalName, w]));
  const weights = new Map<string, tf.Tensor>();
  const layers: FfnPruneStats[] = [];
  const keptBy = new Map<string, number>();
  try {
    for (const block of blocks) {
      const config = block.getConfig() as {ffnHidden: number; lora?: unknown};
      if (config.lora) {
        throw new ModelError(
          `block ${block.name} has LoRA adapters`,
          'fuse the adapters into the base weights before structured pruning',
        );
      }
      const hidden = config.ffnHidden;
      const kept = Math.max(1, Math.round((1 - amount) * hidden));
      keptBy.set(block.name, kept);
      const w = (site: string, part = 'kernel') => byName.get(`${block.name}/ffn/${site}/${part}`);
      const [gate, up, down] = [w('gate'), w('up'), w('down')];
      if (!gate || !up || !down) throw new ModelError(`block ${block.name}: no ffn gate/up/down kernels`);
      const scores = tf.tidy(() =>
        tf
          .addN([
            tf.sum(tf.abs(gate.read()), 0),
            tf.sum(tf.abs(up.read()), 0),
            tf.sum(tf.abs(down.read()), 1),
          ])
          .dataSync(),
      );
      const index = tf.tensor1d(topIndices(scores, kept), 'int32');
      for (const site of ['gate', 'up']) {
        weights.set(`${block.name}/ffn/${site}/kernel`, tf.gather(w(site)!.read(), index, 1));
        const bias = w(site, 'bias');
        if (bias) weights.set(bias.originalName, tf.gather(bias.read(), index, 0));
      }
      weights.set(down.originalName, tf.gather(down.read(), index, 0));
      index.dispose();
      layers.push({layer: block.name, hiddenBefore: hidden, hiddenAfter: kept});
    }
    const pruned = await rebuildModel(
      model,
      (layer) => {
        const kept = keptBy.get(layer.name);
        if (kept !== undefined) layer.config.ffn_hidden = kept;
      },
      weights,
    );
    return {model: pruned, layers};
  } finally {
    tf.dispose([...weights.values()]);
  }
}
