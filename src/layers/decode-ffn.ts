import * as tf from '@tensorflow/tfjs';
import {fastMatMul} from './moe/fast-matmul.js';
import {SwiGLU} from './swiglu.js';

const SWIGLU_SITES = ['gate', 'up', 'down'] as const;

/**
 * A decoder block's feed-forward on the few tokens of a cached decoding step, x [b, t, d] → [b, t, d].
 * A SwiGLU of plain Dense projections runs as three 2-D products on its kernels (fastMatMul: a
 * plain MatMul on tfjs-node), 8 kernels in all: Dense.apply would add three reshapes per product
 * and Layer.apply's bookkeeping, which cost more than the products themselves at one token. Any other FFN (MoE, LoRA adapters) runs its own call.
 */
export function decodeFfn(ffn: tf.layers.Layer, x: tf.Tensor3D): tf.Tensor3D {
  const layers = ffn instanceof SwiGLU ? SWIGLU_SITES.map((p) => ffn.sublayers().get(p)!) : [];
  if (layers.length === 0 || !layers.every((l) => l.getClassName() === 'Dense')) {
    return ffn.call(x, {training: false}) as tf.Tensor3D;
  }
  // A Dense's weights are [kernel] or [kernel, bias].
  const [gate, up, down] = layers.map((l) => l.weights.map((w) => w.read()));
  const project = (input: tf.Tensor, [kernel, bias]: tf.Tensor[]) => {
    const y = fastMatMul(input as tf.Tensor2D, kernel as tf.Tensor2D);
    return bias ? tf.add(y, bias) : y;
  };
  const rows = tf.reshape(x, [-1, x.shape[2]]); // [b·t, d]: plain 2-D products
  const g = project(rows, gate!);
  const h = tf.mul(tf.mul(g, tf.sigmoid(g)), project(rows, up!)); // silu(gate) · up
  return tf.reshape(project(h, down!), x.shape) as tf.Tensor3D;
}
