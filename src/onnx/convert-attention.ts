import type {Attention} from '../layers/attention.js';
import type {ConvertContext} from './convert-context.js';
import {applyDense} from './dense-parts.js';

/**
 * The kit's causal attention (layers/attention.ts) on x [b, t, d]: q/k/v projections, heads
 * [b, n, t, hd], RoPE on q and k at positions past … past + t − 1, keys and values appended to the
 * past ones (written out as `present.i.*`), softmax(q·kᵀ/√hd + mask)·v, the o projection. Grouped
 * KV heads attend without repeating keys: q is viewed as [b, kv, group, t, hd] against k as
 * [b, kv, 1, T, hd], which MatMul broadcasts.
 */
export function convertAttention(ctx: ConvertContext, layer: Attention, x: string): string {
  const g = ctx.g;
  const {numHeads, numKvHeads, headDim} = layer;
  const child = (p: string) => layer.sublayers().get(p)!;
  const heads = (y: string, n: number) =>
    g.op('Transpose', [g.op('Reshape', [y, g.int64s([0, 0, n, headDim])])], {perm: [0, 2, 1, 3]});
  let q = heads(applyDense(ctx, child('q'), x), numHeads); // [b, h, t, hd]
  let k = heads(applyDense(ctx, child('k'), x), numKvHeads); // [b, kv, t, hd]
  let v = heads(applyDense(ctx, child('v'), x), numKvHeads);
  if (layer.rope) {
    const {cos, sin} = ctx.ropeRows(headDim, layer.ropeTheta);
    q = rotate(ctx, q, cos, sin, headDim);
    k = rotate(ctx, k, cos, sin, headDim);
  }
  const cache = ctx.takeKVPair();
  if (cache) {
    k = g.opN('Concat', [cache.pastKey, k], [cache.presentKey], {axis: 2})[0]!; // [b, kv, T, hd]
    v = g.opN('Concat', [cache.pastValue, v], [cache.presentValue], {axis: 2})[0]!;
  }
  const group = numHeads / numKvHeads;
  if (group > 1) {
    q = g.op('Reshape', [q, g.int64s([0, numKvHeads, group, -1, headDim])]); // [b, kv, group, t, hd]
    k = g.op('Unsqueeze', [k, g.int64s([2])]); // [b, kv, 1, T, hd]
    v = g.op('Unsqueeze', [v, g.int64s([2])]);
  }
  const rank = group > 1 ? 5 : 4;
  const kT = g.op('Transpose', [k], {perm: [...Array(rank - 2).keys(), rank - 1, rank - 2]});
  const scores = g.op('Mul', [g.op('MatMul', [q, kT]), g.scalar(1 / Math.sqrt(headDim))]); // [..., t, T]
  const probs = g.op('Softmax', [g.op('Add', [scores, ctx.causalMask()])], {axis: -1});
  let context = g.op('MatMul', [probs, v]); // [..., t, hd]
  if (group > 1) context = g.op('Reshape', [context, g.int64s([0, numHeads, -1, headDim])]);
  const merged = g.op('Reshape', [
    g.op('Transpose', [context], {perm: [0, 2, 1, 3]}),
    g.int64s([0, 0, numHeads * headDim]),
  ]); // [b, t, h·hd]
  return applyDense(ctx, child('o'), merged);
}

/** RoPE, rotate-half layout: x·cos + [x2, x1]·signedSin (see layers/rope.ts). x [b, n, t, hd]. */
function rotate(ctx: ConvertContext, x: string, cos: string, signedSin: string, headDim: number): string {
  const g = ctx.g;
  const [x1, x2] = g.opN('Split', [x, g.int64s([headDim / 2, headDim / 2])], 2, {axis: 3});
  const swapped = g.op('Concat', [x2!, x1!], {axis: 3});
  return g.op('Add', [g.op('Mul', [x, cos]), g.op('Mul', [swapped, signedSin])]);
}
