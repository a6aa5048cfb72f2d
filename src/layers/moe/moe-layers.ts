import * as tf from '@tensorflow/tfjs';
import {hasSublayers} from '../composite-layer.js';
import {MoE} from '../moe.js';
import type {RoutingStats} from './routing-stats.js';

/** Every MoE layer in a model or layer, depth first: inside nested models and composite blocks too. */
export function moeLayers(root: tf.layers.Layer): MoE[] {
  if (root instanceof MoE) return [root];
  const children: tf.layers.Layer[] =
    root instanceof tf.LayersModel ? root.layers : hasSublayers(root) ? [...root.sublayers().values()] : [];
  return children.flatMap(moeLayers);
}

/** The last call's routing of each MoE layer, by layer name: for per-step logs and a collapse alarm. */
export function routingStatsOf(root: tf.layers.Layer): Record<string, RoutingStats> {
  const out: Record<string, RoutingStats> = {};
  for (const layer of moeLayers(root)) if (layer.lastRoutingStats) out[layer.name] = layer.lastRoutingStats;
  return out;
}

/**
 * A `fit` callback that applies aux-loss-free balancing to every MoE layer after each batch. Needed
 * only for layers with `biasUpdate: 'manual'` (with 'step' they update themselves; calling it as
 * well changes nothing, as each update consumes the load it used).
 */
export function routingBiasCallback(root: tf.layers.Layer): tf.CustomCallback {
  const layers = moeLayers(root);
  return new tf.CustomCallback({
    onBatchEnd: async () => {
      for (const layer of layers) layer.updateRoutingBias();
    },
  });
}
