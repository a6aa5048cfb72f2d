import * as tf from '@tensorflow/tfjs';
import {F32, nativeOps} from '../backend/native-ops.js';

/**
 * √(Σ‖g‖²) over all gradients: the norm of the whole gradient as one vector. On tfjs-node each ‖g‖²
 * is one TensorFlow L2Loss (Σg²/2) instead of a square and a sum: one pass over the gradient, not two.
 */
export function globalNorm(grads: readonly tf.Tensor[]): tf.Scalar {
  const ops = nativeOps('clip');
  return tf.tidy(() => {
    if (!ops) return tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))) as tf.Scalar;
    const halves = grads.map((g) => ops.one('L2Loss', {T: F32}, [g]));
    return tf.sqrt(tf.mul(tf.addN(halves), 2)) as tf.Scalar;
  });
}

/**
 * The factor min(1, maxNorm / norm) that brings a gradient of global norm `norm` within `maxNorm`
 * (Pascanu et al. 2013). A tensor, so clipping never waits for a value from the backend.
 */
export function clipFactor(norm: tf.Scalar, maxNorm: number): tf.Scalar {
  return tf.tidy(() => tf.minimum(1, tf.div(maxNorm, tf.add(norm, 1e-6))) as tf.Scalar);
}

/** The gradients scaled to a global norm of at most `maxNorm`, and the norm before clipping. */
export function clipByGlobalNorm(
  grads: readonly tf.Tensor[],
  maxNorm: number,
): {grads: tf.Tensor[]; norm: tf.Scalar} {
  return tf.tidy(() => {
    const norm = globalNorm(grads);
    const factor = clipFactor(norm, maxNorm);
    return {grads: grads.map((g) => tf.mul(g, factor)), norm};
  });
}
