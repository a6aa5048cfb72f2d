import * as tf from '@tensorflow/tfjs';

/** When the MoE layer applies the bias update: after every training call, or on `updateRoutingBias()`. */
export const BIAS_UPDATE_MODES = ['step', 'manual'] as const;
export type BiasUpdateMode = (typeof BIAS_UPDATE_MODES)[number];

/**
 * DeepSeek-V3's auxiliary-loss-free balancing step (§2.1.2): after a training step, each expert's
 * routing bias moves by `speed` against its load, b_i ← b_i − γ·sign(load_i − mean load), so
 * overloaded experts get chosen less and idle ones more. The bias only steers which experts are
 * chosen; the gate weights never see it. Pure: bias [E], load [E] → the new bias [E].
 */
export function updatedRoutingBias(bias: tf.Tensor1D, load: ArrayLike<number>, speed: number): tf.Tensor1D {
  const n = load.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += load[i]!;
  // load_i − mean has the sign of n·load_i − total, which stays exact for integer loads.
  const step = Float32Array.from({length: n}, (_, i) => speed * Math.sign(n * load[i]! - total));
  return tf.tidy(() => tf.sub(bias, tf.tensor1d(step)));
}
