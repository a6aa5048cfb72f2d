import * as tf from '@tensorflow/tfjs';

/**
 * `x[indices]` along axis 0 with a gradient on every backend. tf.gather's own gradient needs the
 * UnsortedSegmentSum kernel, which the wasm backend lacks; here the gradient is a ScatterNd, which
 * sums the rows of repeated indices (a token routed to two experts gets both gradients).
 * x [n, ...rest], indices [m] → [m, ...rest].
 */
export function gatherRows<T extends tf.Tensor>(x: T, indices: Int32Array): T {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    const idx = tf.tensor1d(indices, 'int32');
    save([idx]);
    return {
      value: tf.gather(input, idx),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const rows = tf.reshape(saved[0]!, [-1, 1]); // [m, 1]
        return tf.scatterND(rows, dy, input.shape);
      },
    };
  });
  return op(x) as T;
}

/** How the rows of a gather map back: input row i's gradient is Σ_g dy[index[i·group + g]]. */
export interface RowAdjoint {
  /** [n·group] output row feeding each input row's gradient, −1 for none. */
  index: Int32Array;
  /** Output rows that feed each input row (k when a token went to k experts). */
  group: number;
}

/**
 * `x[index]` (−1 reads a zero row) for a row map whose reverse is known: the gradient is again a
 * gather, plus a sum over `adjoint.group`, instead of a scatter, which TensorFlow runs on one
 * thread. The MoE dispatch (tokens → expert rows) and combine (expert rows → choices) are such
 * maps. Rows of the output that `adjoint` never reads must receive a zero gradient (padding).
 * x [n, d], index [m] → [m, d].
 */
export function gatherRowsWithAdjoint(x: tf.Tensor2D, index: Int32Array, adjoint: RowAdjoint): tf.Tensor2D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor2D;
    const [n, d] = input.shape;
    return {
      value: gatherOrZero(input, index),
      gradFunc: (dy: tf.Tensor) => {
        const rows = gatherOrZero(dy as tf.Tensor2D, adjoint.index); // [n·group, d]
        return adjoint.group === 1 ? rows : tf.sum(tf.reshape(rows, [n, adjoint.group, d]), 1);
      },
    };
  });
  return op(x) as tf.Tensor2D;
}

/** x[index] where −1 reads a row of zeros. x [n, d], index [m] → [m, d]. */
function gatherOrZero(x: tf.Tensor2D, index: Int32Array): tf.Tensor2D {
  return tf.tidy(() => {
    const n = x.shape[0];
    if (!index.includes(-1)) return tf.gather(x, tf.tensor1d(index, 'int32')) as tf.Tensor2D;
    const padded = tf.concat([x, tf.zeros([1, x.shape[1]])]);
    return tf.gather(
      padded,
      tf.tensor1d(
        index.map((i) => (i < 0 ? n : i)),
        'int32',
      ),
    ) as tf.Tensor2D;
  });
}
