import * as tf from '@tensorflow/tfjs';

type GateFn = (gate: tf.Tensor, up: tf.Tensor) => tf.Tensor;

/**
 * The SwiGLU product silu(gate) · up (Shazeer 2020), element-wise on tensors of one shape, with its
 * gradient written out: with s = σ(g) and a = g·s,
 *   ∂/∂up = dy·a,   ∂/∂gate = dy·up·s·(1 + g − a)
 * 6 element-wise kernels in the backward pass where differentiating the forward ops takes 8 (on
 * [tokens, hidden], the largest activations of a block).
 */
export function siluGate(gate: tf.Tensor, up: tf.Tensor): tf.Tensor {
  // A tidy: without a gradient tape the forward's intermediates (σ(g), silu) are left in scope.
  return tf.tidy(() => siluGateOp(gate, up));
}

const siluGateOp: GateFn = tf.customGrad(((gate: tf.Tensor, up: tf.Tensor, save: tf.GradSaveFunc) => {
  const s = tf.sigmoid(gate);
  const a = tf.mul(gate, s); // silu(g)
  save([gate, up, s, a]);
  return {
    value: tf.mul(a, up),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [g, u, sg, silu] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      const dGate = tf.mul(tf.mul(dy, u), tf.mul(sg, tf.sub(tf.add(g, 1), silu)));
      return [dGate, tf.mul(dy, silu)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as GateFn;
