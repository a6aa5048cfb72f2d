import * as tf from '@tensorflow/tfjs';
import {SwiGLU} from './swiglu.js';

const SWIGLU_SITES = ['gate', 'up', 'down'] as const;

/**
 * A decoder block's feed-forward on the few tokens of a cached decoding step, x [b, t, d] → [b, t, d].
 * A SwiGLU of plain Dense projections runs as three tf.matMul on its kernels, 6 kernels in all:
 * Dense.apply would add three reshapes per product and Layer.apply's bookkeeping, which cost more
 * than the products themselves at one token. Any other FFN (MoE, LoRA adapters) runs its own call.
 */
export function decodeFfn(ffn: tf.layers.Layer, x: tf.Tensor3D): tf.Tensor3D {
  const layers = ffn instanceof SwiGLU ? SWIGLU_SITES.map((p) => ffn.sublayers().get(p)!) : [];
  if (layers.length === 0 || !layers.every((l) => l.getClassName() === 'Dense')) {
    return ffn.call(x, {training: false}) as tf.Tensor3D;
  }
  // A Dense's weights are [kernel] or [kernel, bias].
  const [gate, up, down] = layers.map((l) => l.weights.map((w) => w.read()));
  const project = (input: tf.Tensor, [kernel, bias]: tf.Tensor[]) => {
    const y = tf.matMul(input as tf.Tensor3D, kernel as tf.Tensor2D);
    return bias ? tf.add(y, bias) : y;
  };
  const g = project(x, gate!);
  const h = tf.mul(tf.mul(g, tf.sigmoid(g)), project(x, up!)); // silu(gate) · up
  return project(h, down!) as tf.Tensor3D;
}
