import * as tf from '@tensorflow/tfjs';
import {F32, nativeOps} from '../../backend/native-ops.js';

/**
 * a·b for [n, k]·[k, m] or batched [B, n, k]·[B, k, m], fast on every backend.
 * - tensorflow (tfjs-node): tf.matMul always runs TensorFlow's BatchMatMulV2, which costs ~80 µs
 *   more per call than its plain MatMul (1×256·256×256: 99 vs 16 µs; 2048×256·256×512: about the
 *   same). 2-D products therefore run MatMul, gradients included: a decoding step is dozens of
 *   one-row products. Batched products stay on tf.matMul.
 * - wasm runs only plain 2-D products through XNNPACK; batched products and the transposed products
 *   of every matmul gradient take a loop about 10x slower, and its Split/Unpack kernels are slow
 *   too. There (or with `explicit`), a batch runs as B plain 2-D products on slices taken with
 *   GatherNd, and the gradients transpose explicitly before multiplying.
 * Other backends use tf.matMul as is.
 */
export function fastMatMul<T extends tf.Tensor2D | tf.Tensor3D>(
  a: T,
  b: T,
  explicit = tf.getBackend() === 'wasm',
): T {
  const native = nativeOps('matmul') !== undefined && a.dtype === 'float32' && b.dtype === 'float32';
  if (a.rank === 2 && b.rank === 2 && !explicit && native) {
    // customGrad's bookkeeping costs ~20 µs a call: skip it when no gradient is being taken.
    const taping = (tf.engine().state as unknown as {gradientDepth: number}).gradientDepth > 0;
    const [a2, b2] = [a as tf.Tensor2D, b as tf.Tensor2D];
    return (taping ? nativeMatMul2d(a2, b2) : tfMatMul(a2, b2)) as T;
  }
  if (!explicit) return tf.matMul(a, b) as T;
  return (
    a.rank === 2
      ? matMul2d(a as tf.Tensor2D, b as tf.Tensor2D)
      : batchMatMul(a as tf.Tensor3D, b as tf.Tensor3D)
  ) as T;
}

/** TensorFlow's MatMul op on tfjs-node's backend (no gradient): a·b with optional transposes. */
function tfMatMul(a: tf.Tensor2D, b: tf.Tensor2D, transposeA = false, transposeB = false): tf.Tensor2D {
  const attrs = {T: F32, transpose_a: transposeA, transpose_b: transposeB};
  return nativeOps('matmul')!.one('MatMul', attrs, [a, b]) as tf.Tensor2D;
}

/**
 * a·b (optionally transposed) over batch axes, for small inference-time products such as a
 * decoding step's attention scores. On tfjs-node it runs TensorFlow's BatchMatMulV3, which skips
 * the oneDNN set-up BatchMatMulV2 pays per call ([1, 2, 4, 32]·[1, 2, 200, 32]ᵀ: 21 vs 87 µs
 * interleaved; at MoE sizes V3 is slower, so training stays on tf.matMul). No gradient there.
 */
export function smallBatchMatMul<T extends tf.Tensor>(
  a: T,
  b: tf.Tensor,
  transposeA = false,
  transposeB = false,
): T {
  const ops = nativeOps('matmul');
  if (!ops || a.dtype !== 'float32' || b.dtype !== 'float32') {
    return tf.matMul(a, b, transposeA, transposeB) as unknown as T;
  }
  const attrs = {Ta: F32, Tb: F32, Tout: F32, adj_x: transposeA, adj_y: transposeB};
  return ops.one('BatchMatMulV3', attrs, [a, b]) as T;
}

const nativeMatMul2d = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tfMatMul(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tfMatMul(dy as tf.Tensor2D, sb, false, true), tfMatMul(sa, dy as tf.Tensor2D, true, false)];
    },
  };
}) as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

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
