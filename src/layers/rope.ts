import * as tf from '@tensorflow/tfjs';

/**
 * Rotary position embedding (Su et al. 2021, "RoFormer"), rotate-half layout as in GPT-NeoX and
 * LLaMA: dimension i of the first half pairs with i + d/2 and turns by angle pos·theta^(-2i/d).
 * Pure functions; attention applies them to q and k after the head split.
 */

/** cos and sin tables, each [length, headDim], for positions offset … offset+length-1. */
export function ropeTables(
  offset: number,
  length: number,
  headDim: number,
  theta = 10000,
): {cos: tf.Tensor2D; sin: tf.Tensor2D} {
  return tf.tidy(() => {
    const half = headDim / 2;
    const invFreq = new Float32Array(half);
    for (let i = 0; i < half; i++) invFreq[i] = theta ** ((-2 * i) / headDim);
    const positions = tf.range(offset, offset + length, 1, 'float32').reshape([length, 1]);
    const angles = tf.mul(positions, tf.tensor2d(invFreq, [1, half])); // [length, half]
    const full = tf.concat([angles, angles], 1); // [length, headDim]
    return {cos: tf.cos(full) as tf.Tensor2D, sin: tf.sin(full) as tf.Tensor2D};
  });
}

/** Rotates x [batch, heads, length, headDim] as if its first token sat at position `offset`. */
export function applyRope(x: tf.Tensor4D, offset = 0, theta = 10000): tf.Tensor4D {
  return tf.tidy(() => {
    const [, , length, headDim] = x.shape;
    const {cos, sin} = ropeTables(offset, length, headDim, theta);
    const [x1, x2] = tf.split(x, 2, 3);
    const rotated = tf.concat([tf.neg(x2!), x1!], 3); // rotate_half(x)
    return tf.add(tf.mul(x, cos), tf.mul(rotated, sin)) as tf.Tensor4D;
  });
}
