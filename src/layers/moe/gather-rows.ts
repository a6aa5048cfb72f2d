import * as tf from '@tensorflow/tfjs';
import {fastMatMul} from './fast-matmul.js';

/**
 * `x[indices]` along axis 0 with a gradient on every backend. tf.gather's own gradient needs the
 * UnsortedSegmentSum kernel, which the wasm backend lacks; here the gradient is a ScatterNd, which
 * sums the rows of repeated indices (an expert's weights gathered for two chunks get both
 * gradients). For small gathers (router weights, chunk weights); large row maps use `mapRows`.
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

/**
 * `x[indices]` along axis 0 for a few large rows (an expert stack's weights, one row per chunk).
 * The gradient sums the rows of repeated indices with one matmul by the [n, m] 0/1 membership
 * matrix: multi-threaded, where a ScatterNd runs on one thread (moe-lm, 22 chunks of 256x256
 * matrices: ~2 ms per weight). x [n, ...rest], indices [m] → [m, ...rest].
 */
export function gatherBlocks<T extends tf.Tensor>(x: T, indices: Int32Array): T {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor;
    const [n, ...rest] = input.shape;
    return {
      value: tf.gather(input, tf.tensor1d(indices, 'int32')),
      gradFunc: (dy: tf.Tensor) =>
        tf.tidy(() => {
          const member = new Float32Array(n! * indices.length);
          indices.forEach((row, j) => {
            member[row * indices.length + j] = 1;
          });
          const flat = tf.reshape(dy, [indices.length, -1]) as tf.Tensor2D;
          const summed = fastMatMul(tf.tensor2d(member, [n!, indices.length]), flat);
          return tf.reshape(summed, [n!, ...rest]);
        }),
    };
  });
  return op(x) as T;
}

/** A row map: output row j is the sum of `group` consecutive picks `x[index[j·group + g]]` (−1 picks zeros). */
export interface RowMap {
  /** [m·group] input row of each pick, −1 for a row of zeros. */
  index: Int32Array;
  /** Picks summed into each output row: 1 for a plain gather, k to sum a token's k expert outputs. */
  group: number;
}

/**
 * Applies `forward` to the rows of x, with `backward` — the transposed map — as its gradient. The
 * MoE's dispatch (tokens → expert rows) and combine (expert rows → tokens) are such pairs, so both
 * directions are gathers, never a scatter (which TensorFlow runs on one thread and which a plain
 * tf.gather gradient would need). The caller guarantees `backward` is the transpose of `forward`
 * on every row whose gradient matters. x [n, d] → [m, d].
 */
export function mapRows(x: tf.Tensor2D, forward: RowMap, backward: RowMap): tf.Tensor2D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: pickRows(args[0] as tf.Tensor2D, forward),
    gradFunc: (dy: tf.Tensor) => pickRows(dy as tf.Tensor2D, backward),
  }));
  return op(x) as tf.Tensor2D;
}

function pickRows(x: tf.Tensor2D, map: RowMap): tf.Tensor2D {
  return tf.tidy(() => {
    const [n, d] = x.shape;
    const {index, group} = map;
    const hasZeros = index.includes(-1);
    const source = (hasZeros ? tf.concat([x, tf.zeros([1, d])]) : x) as tf.Tensor2D;
    if (group === 1) return takeRows(source, hasZeros ? withZeroRow(index, n) : index);
    // g gathers and one add: cheaper than gathering [m·g, d] and reducing a middle axis of size g.
    // Plain loops: TypedArray.filter/map with a callback cost ~10x more here.
    const m = index.length / group;
    const picks = Array.from({length: group}, (_, g) => {
      const strided = new Int32Array(m);
      for (let j = 0; j < m; j++) {
        const i = index[j * group + g]!;
        strided[j] = i < 0 ? n : i;
      }
      return takeRows(source, strided);
    });
    return tf.addN(picks);
  });
}

/** index with −1 (a row of zeros) pointing at row n, the zero row appended to an [n, d] source. */
function withZeroRow(index: Int32Array, n: number): Int32Array {
  const out = new Int32Array(index.length);
  for (let i = 0; i < index.length; i++) out[i] = index[i]! < 0 ? n : index[i]!;
  return out;
}

/** source[index] along axis 0. wasm's GatherV2 runs ~9x slower than its GatherNd; the cpu backend is the reverse. */
function takeRows(source: tf.Tensor2D, index: Int32Array): tf.Tensor2D {
  if (tf.getBackend() === 'cpu') return tf.gather(source, tf.tensor1d(index, 'int32'));
  return tf.gatherND(source, tf.tensor2d(index, [index.length, 1], 'int32')) as tf.Tensor2D;
}
