import * as tf from '@tensorflow/tfjs';

/**
 * a·b for [n, k]·[k, m] or batched [B, n, k]·[B, k, m], fast on every backend. The wasm backend
 * runs only plain 2-D products through XNNPACK; batched products and the transposed products of
 * every matmul gradient take a loop about 10x slower, and its Split/Unpack kernels are slow too.
 * There (or with `explicit`), a batch runs as B plain 2-D products on slices taken with GatherNd,
 * and the gradients transpose explicitly before multiplying. Other backends use tf.matMul as is.
 */
export function fastMatMul<T extends tf.Tensor2D | tf.Tensor3D>(
  a: T,
  b: T,
  explicit = tf.getBackend() === 'wasm',
): T {
  if (!explicit) return tf.matMul(a, b) as T;
  return (
    a.rank === 2
      ? matMul2d(a as tf.Tensor2D, b as tf.Tensor2D)
      : batchMatMul(a as tf.Tensor3D, b as tf.Tensor3D)
  ) as T;
}

/** a·b, and a·bᵀ / aᵀ·b with the transpose done first. */
function product(a: tf.Tensor2D, b: tf.Tensor2D, transposeA = false, transposeB = false): tf.Tensor2D {
  return tf.matMul(transposeA ? tf.transpose(a) : a, transposeB ? tf.transpose(b) : b);
}

const matMul2d = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [product(dy as tf.Tensor2D, sb, false, true), product(sa, dy as tf.Tensor2D, true, false)];
    },
  };
}) as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

/** Item i of a batch, [B, r, c] → [r, c]. */
function item(t: tf.Tensor, i: number): tf.Tensor2D {
  const [, rows, cols] = t.shape as [number, number, number];
  return tf.reshape(tf.gatherND(t, tf.tensor2d([[i]], [1, 1], 'int32')), [rows, cols]);
}

const batchMatMul = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc];
  save([a, b]);
  const batches = Array.from({length: a.shape[0]}, (_, i) => i);
  return {
    value: tf.stack(batches.map((i) => tf.matMul(item(a, i), item(b, i)))),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor3D, tf.Tensor3D];
      return [
        tf.stack(batches.map((i) => product(item(dy, i), item(sb, i), false, true))),
        tf.stack(batches.map((i) => product(item(sa, i), item(dy, i), true, false))),
      ];
    },
  };
}) as (a: tf.Tensor3D, b: tf.Tensor3D) => tf.Tensor3D;
