import * as tf from '@tensorflow/tfjs';

/** √(Σ‖g‖²) over all gradients: the norm of the whole gradient as one vector. */
export function globalNorm(grads: readonly tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))) as tf.Scalar);
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
