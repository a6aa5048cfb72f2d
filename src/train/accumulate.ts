import * as tf from '@tensorflow/tfjs';

/**
 * Element-wise sum of two gradient lists (one entry per parameter), disposing the inputs. A missing
 * gradient (a parameter one batch did not reach, like an idle expert) counts as zero.
 */
export function addGradients(
  a: Array<tf.Tensor | undefined>,
  b: Array<tf.Tensor | undefined>,
): Array<tf.Tensor | undefined> {
  return a.map((x, i) => {
    const y = b[i];
    if (!x) return y;
    if (!y) return x;
    const sum = tf.add(x, y);
    tf.dispose([x, y]);
    return sum;
  });
}

/** Mean of scalars, as a new tensor (the inputs stay the caller's). */
export function meanScalar(scalars: readonly tf.Scalar[]): tf.Scalar {
  return scalars.length === 1
    ? tf.clone(scalars[0]!)
    : (tf.div(tf.addN([...scalars]), scalars.length) as tf.Scalar);
}
