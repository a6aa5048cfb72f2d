import * as tf from '@tensorflow/tfjs';
import {F32, nativeOps} from '../../backend/native-ops.js';

/**
 * Whether `groupedMatMul` runs here: only on tfjs-node's backend with native matmuls enabled. Other
 * backends keep the padded, batched layout of the dispatch plan.
 */
export function groupedMatMulAvailable(): boolean {
  return nativeOps('matmul') !== undefined;
}

/**
 * Each expert's block of rows times its own matrix, rows grouped by expert with no padding: rows
 * [offset_e, offset_e + counts[e]) of x times w[e]. x [R, k] with R = Σ counts, w [E, k, m] → [R, m].
 *
 * One plain MatMul per expert with rows, on tfjs-node only. In place of one BatchMatMulV2 over
 * chunks padded to a common size it runs the routed rows only and gathers no expert's weights per
 * chunk, at the price of more, smaller products: it pays off when loads are skewed (planDispatch's
 * 'auto' layout decides; bench:layers times both). The gradient is the same per block:
 * dx_e = dy_e·w_eᵀ and dw_e = x_eᵀ·dy_e, as MatMuls with transpose flags (zeros for an idle expert).
 */
export function groupedMatMul(x: tf.Tensor2D, w: tf.Tensor3D, counts: Int32Array): tf.Tensor2D {
  const taping = (tf.engine().state as unknown as {gradientDepth: number}).gradientDepth > 0;
  if (!taping) return tf.tidy(() => groupedProduct(split(x, counts), tf.unstack(w) as tf.Tensor2D[], counts));
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, weights, save] = args as [tf.Tensor2D, tf.Tensor3D, tf.GradSaveFunc];
    const blocks = split(input, counts);
    const mats = tf.unstack(weights) as tf.Tensor2D[];
    save([...blocks, ...mats]);
    return {
      value: groupedProduct(blocks, mats, counts),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const numExperts = counts.length;
        const xs = saved.slice(0, numExperts) as tf.Tensor2D[];
        const ws = saved.slice(numExperts) as tf.Tensor2D[];
        const dys = split(dy as tf.Tensor2D, counts);
        const dx = groupedProduct(dys, ws, counts, true);
        const [k, m] = weights.shape.slice(1) as [number, number];
        const dw = tf.stack(
          xs.map((xe, e) => (counts[e]! > 0 ? matMul(xe, dys[e]!, true, false) : tf.zeros([k, m]))),
        );
        return [dx, dw];
      },
    };
  });
  return op(x, w) as tf.Tensor2D;
}

/** The per-expert products concatenated back into [R, ·]; `transposeB` multiplies by w_eᵀ. */
function groupedProduct(
  blocks: tf.Tensor2D[],
  mats: tf.Tensor2D[],
  counts: Int32Array,
  transposeB = false,
): tf.Tensor2D {
  const parts = blocks.flatMap((b, e) => (counts[e]! > 0 ? [matMul(b, mats[e]!, false, transposeB)] : []));
  return parts.length === 1 ? parts[0]! : (tf.concat(parts) as tf.Tensor2D);
}

/** x [R, k] → one block per expert, [counts[e], k] each (SplitV, one op). */
function split(x: tf.Tensor2D, counts: Int32Array): tf.Tensor2D[] {
  return counts.length === 1 ? [x] : (tf.split(x, [...counts]) as tf.Tensor2D[]);
}

function matMul(a: tf.Tensor2D, b: tf.Tensor2D, transposeA: boolean, transposeB: boolean): tf.Tensor2D {
  const attrs = {T: F32, transpose_a: transposeA, transpose_b: transposeB};
  return nativeOps('matmul')!.one('MatMul', attrs, [a, b]) as tf.Tensor2D;
}
