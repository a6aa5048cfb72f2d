import * as tf from '@tensorflow/tfjs';
import {ConfigError, ModelError} from '../errors.js';
import {MoE} from '../layers/moe.js';
import {walkLayers} from '../layers/walk-layers.js';
import {rebuildModel, topIndices} from './prune-rebuild.js';

/** Expert usage and what was kept in one MoE layer. */
export interface ExpertPruneStats {
  /** Path of the MoE layer (`block0/ffn`). */
  layer: string;
  /** Choices routed to each expert while counting, [E]. */
  usage: number[];
  /** Indices (old numbering) of the experts kept, ascending. */
  kept: number[];
}

/** The MoE layers of a model with their paths (`block0/ffn`). */
export function moeLayerPaths(model: tf.LayersModel): {path: string; layer: MoE}[] {
  return walkLayers(model).flatMap(({path, layer}) => (layer instanceof MoE ? [{path, layer}] : []));
}

/** The MoE layers of `model`; none is a ModelError (expert pruning needs an MoE model). */
export function moeLayersToPrune(model: tf.LayersModel): {path: string; layer: MoE}[] {
  const layers = moeLayerPaths(model);
  if (layers.length === 0) {
    throw new ModelError('the model has no MoE layers', 'expert pruning needs a model trained with ffn: moe');
  }
  return layers;
}

/**
 * Counts the routing choices of every MoE layer over `batches` (model inputs, run in inference
 * mode) from each layer's `lastRoutingStats`. Padding positions are tokens to the router too and
 * are counted with the rest.
 */
export function countExpertUsage(model: tf.LayersModel, batches: Iterable<tf.Tensor>): Map<string, number[]> {
  const layers = moeLayerPaths(model);
  const usage = new Map(
    layers.map(({path, layer}) => [path, new Array<number>(layer.config.numExperts).fill(0)]),
  );
  for (const batch of batches) {
    tf.dispose(model.predict(batch));
    for (const {path, layer} of layers) {
      const counts = usage.get(path)!;
      layer.lastRoutingStats?.tokensPerExpert.forEach((n, e) => {
        counts[e]! += n;
      });
    }
  }
  return usage;
}

/**
 * Drops the least-used fraction `amount` of the routed experts of every MoE layer (usage from
 * {@link countExpertUsage}; ties keep the lower index) and shrinks the router to match: its kernel
 * columns and balance-bias entries go with their experts; topK is capped at the experts left.
 * Shared experts stay. Every layer keeps the same count, so one `moe.numExperts` describes the model.
 */
export async function dropExperts(
  model: tf.LayersModel,
  usage: ReadonlyMap<string, readonly number[]>,
  amount: number,
): Promise<{model: tf.LayersModel; layers: ExpertPruneStats[]; numExperts: number; topK: number}> {
  const layers = moeLayersToPrune(model);
  if (!(amount > 0 && amount < 1))
    throw new ConfigError(`expert pruning: --sparsity must be in (0, 1), got ${amount}`);
  const byName = new Map(model.weights.map((w) => [w.originalName, w]));
  const weights = new Map<string, tf.Tensor>();
  const stats: ExpertPruneStats[] = [];
  const numExperts = layers[0]!.layer.config.numExperts;
  const keep = Math.max(1, Math.round((1 - amount) * numExperts));
  const topK = Math.min(layers[0]!.layer.config.topK, keep);
  try {
    for (const {path, layer} of layers) {
      const c = layer.config;
      if (c.numExperts !== numExperts)
        throw new ModelError(`MoE layers differ in numExperts (${path}: ${c.numExperts})`);
      if (c.numGroups > 1) {
        throw new ModelError(
          `MoE ${path} uses group-limited routing (numGroups ${c.numGroups})`,
          'expert pruning supports numGroups 1 only',
        );
      }
      const counts = usage.get(path);
      if (!counts) throw new ModelError(`no expert usage counted for MoE ${path}`);
      const kept = topIndices(counts, keep);
      const index = tf.tensor1d(kept, 'int32');
      for (const w of layer.weights) {
        const name = w.originalName.slice(w.originalName.indexOf(path) + path.length + 1);
        const axis =
          name === 'router/kernel'
            ? 1
            : name === 'router/balance_bias' || name.startsWith('experts/')
              ? 0
              : -1;
        if (axis >= 0)
          weights.set(w.originalName, tf.gather(byName.get(w.originalName)!.read(), index, axis));
      }
      index.dispose();
      stats.push({layer: path, usage: [...counts], kept});
    }
    const blocks = new Set(layers.map(({path}) => path.split('/')[0]));
    const pruned = await rebuildModel(
      model,
      (layer) => {
        const moe = (
          layer.class_name === 'MoE' ? layer.config : blocks.has(layer.name) ? layer.config.moe : null
        ) as Record<string, unknown> | null;
        if (moe) {
          moe.num_experts = keep;
          moe.top_k = topK;
          moe.top_k_groups = 1;
        }
      },
      weights,
    );
    return {model: pruned, layers: stats, numExperts: keep, topK};
  } finally {
    tf.dispose([...weights.values()]);
  }
}
