import * as tf from '@tensorflow/tfjs';
import {F32, nativeOps} from '../../backend/native-ops.js';
import {type ExpertActivation, type ExpertWeights, expertFfn} from './expert-ffn.js';

/**
 * Sparse MoE dispatch planned in TensorFlow, with nothing read back: the T·k (token, choice) pairs
 * are sorted by expert (TopKV2 of −expert is a stable sort: ties keep the lower index), so expert
 * e's rows are one block; each block runs through its expert as plain MatMuls on its own rows
 * (SplitV by the load, counted in the graph), and the outputs, weighted by their gates, are summed
 * back per token. The same rows and order as `planDispatch`'s grouped layout without a capacity, so
 * the same results as `sparseDispatch` (tests compare them). Only the blocks' sizes change from
 * step to step; every tensor outside the SplitV–MatMul–ConcatV2 of each projection keeps its shape,
 * which is what lets a captured step replay with other loads.
 * x [T, d], weights [T, k] gates, indices [T, k] int32 experts, load [E] float32 choices per
 * expert, experts stacked [E, ...] → [T, d]. tfjs-node only (the `router` native path).
 */
export function graphDispatch(
  x: tf.Tensor2D,
  weights: tf.Tensor2D,
  indices: tf.Tensor2D,
  load: tf.Tensor1D,
  experts: ExpertWeights,
  activation: ExpertActivation,
): tf.Tensor2D {
  return tf.tidy(() => {
    const [numTokens, d] = x.shape;
    const topK = indices.shape[1];
    const n = numTokens * topK;
    if (n === 0) return tf.zeros([numTokens, d]);
    const ops = nativeOps('router')!;
    // order[r]: the choice (t·k + j) of row r, rows grouped by expert; place[i]: the row of choice i.
    const negExpert = tf.neg(tf.cast(tf.reshape(indices, [n]), 'float32'));
    const [, sorted] = ops.run('TopKV2', {sorted: true, T: F32}, [negExpert, tf.scalar(n, 'int32')], 2);
    const order = sorted as tf.Tensor1D;
    const place = ops.one('InvertPermutation', {T: {type: 'int32'}}, [order]) as tf.Tensor1D;
    const token = tf.floorDiv(order, tf.scalar(topK, 'int32')) as tf.Tensor1D; // [n] token of row r
    const sizes = tf.cast(load, 'int32') as tf.Tensor1D;
    // tokens → rows, and back summing each token's k rows: each map's gradient is the other.
    const rows = mapRowsBy(x, {index: token, group: 1}, {index: place, group: topK}); // [n, d]
    const mm = (a: tf.Tensor, w: tf.Tensor) =>
      groupedMatMulBySizes(a as tf.Tensor2D, w as tf.Tensor3D, sizes);
    const outputs = expertFfn(rows, experts, activation, mm); // [n, d]
    const rowWeights = mapRowsBy(
      tf.reshape(weights, [n, 1]),
      {index: order, group: 1},
      {index: place, group: 1},
    );
    const weighted = tf.mul(outputs, rowWeights) as tf.Tensor2D; // [n, d]
    return mapRowsBy(weighted, {index: place, group: topK}, {index: token, group: 1}); // [T, d]
  });
}

/** A row map with its indices in a tensor: output row j sums rows index[j·group + g], g < group. */
interface TensorRowMap {
  /** [m·group] int32 input row of each pick. */
  index: tf.Tensor1D;
  group: number;
}

/**
 * `forward` applied to the rows of x, with `backward` — its transpose — as the gradient: both
 * directions gathers, as `mapRows` (gather-rows.ts) with indices computed in the graph.
 * x [n, d] → [m, d].
 */
function mapRowsBy(x: tf.Tensor2D, forward: TensorRowMap, backward: TensorRowMap): tf.Tensor2D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    save([backward.index]);
    return {
      value: pick(input, forward.index, forward.group),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        pick(dy as tf.Tensor2D, saved[0] as tf.Tensor1D, backward.group),
    };
  });
  return op(x) as tf.Tensor2D;
}

function pick(x: tf.Tensor2D, index: tf.Tensor1D, group: number): tf.Tensor2D {
  const rows = tf.gather(x, index); // [m·group, d]
  if (group === 1) return rows as tf.Tensor2D;
  const d = x.shape[1];
  return tf.sum(tf.reshape(rows, [-1, group, d]), 1) as tf.Tensor2D;
}

/**
 * `groupedMatMul` (grouped-matmul.ts) with the block sizes in a tensor: rows [o_e, o_e + sizes[e])
 * of x times w[e], one MatMul per expert, an idle expert's included (a [0, k] block gives [0, m]
 * rows and a zero gradient). x [R, k] with R = Σ sizes, w [E, k, m], sizes [E] int32 → [R, m].
 */
export function groupedMatMulBySizes(x: tf.Tensor2D, w: tf.Tensor3D, sizes: tf.Tensor1D): tf.Tensor2D {
  const taping = (tf.engine().state as unknown as {gradientDepth: number}).gradientDepth > 0;
  if (!taping) return tf.tidy(() => product(split(x, sizes), tf.unstack(w) as tf.Tensor2D[]));
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, weights, save] = args as [tf.Tensor2D, tf.Tensor3D, tf.GradSaveFunc];
    const blocks = split(input, sizes);
    const mats = tf.unstack(weights) as tf.Tensor2D[];
    save([sizes, ...blocks, ...mats]);
    return {
      value: product(blocks, mats),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const numExperts = mats.length;
        const xs = saved.slice(1, 1 + numExperts) as tf.Tensor2D[];
        const ws = saved.slice(1 + numExperts) as tf.Tensor2D[];
        const dys = split(dy as tf.Tensor2D, saved[0] as tf.Tensor1D);
        const dx = product(dys, ws, true);
        const dw = tf.stack(xs.map((xe, e) => matMul(xe, dys[e]!, true, false)));
        return [dx, dw];
      },
    };
  });
  return op(x, w) as tf.Tensor2D;
}

/** The per-expert products concatenated back into [R, ·] (ConcatV2 of all E, empty blocks too). */
function product(blocks: tf.Tensor2D[], mats: tf.Tensor2D[], transposeB = false): tf.Tensor2D {
  const parts = blocks.map((b, e) => matMul(b, mats[e]!, false, transposeB));
  if (parts.length === 1) return parts[0]!;
  const ops = nativeOps('router')!;
  const attrs = {N: {int: parts.length}, T: F32, Tidx: {type: 'int32' as const}};
  return ops.one('ConcatV2', attrs, [...parts, tf.scalar(0, 'int32')]) as tf.Tensor2D;
}

/** x [R, k] → one block per expert, [sizes[e], k] each (SplitV by a tensor: no shape is baked in). */
function split(x: tf.Tensor2D, sizes: tf.Tensor1D): tf.Tensor2D[] {
  const numSplit = sizes.shape[0];
  if (numSplit === 1) return [x];
  const attrs = {num_split: {int: numSplit}, T: F32, Tlen: {type: 'int32' as const}};
  return nativeOps('router')!.run(
    'SplitV',
    attrs,
    [x, sizes, tf.scalar(0, 'int32')],
    numSplit,
  ) as tf.Tensor2D[];
}

function matMul(a: tf.Tensor2D, b: tf.Tensor2D, transposeA: boolean, transposeB: boolean): tf.Tensor2D {
  const attrs = {T: F32, transpose_a: transposeA, transpose_b: transposeB};
  return nativeOps('router')!.one('MatMul', attrs, [a, b]) as tf.Tensor2D;
}
