import * as tf from '@tensorflow/tfjs';
import type {Attention} from './attention.js';
import {DerivedWeights} from './derived-weights.js';
import {type FixedSlot, type KVCache, kvCacheLength, type RaggedRows} from './kv-cache.js';
import {fastMatMul, smallBatchMatMul} from './moe/fast-matmul.js';
import {ropeHostTables} from './rope.js';

const SITES = ['q', 'k', 'v', 'o'] as const;

/**
 * Cached decoding for an Attention whose projections are plain Dense layers, in as few kernels as
 * the math allows: on tfjs-node a one-token step is almost all per-kernel overhead (tens of µs each
 * whatever the size; Dense.apply adds three reshapes to each product, and tf.matMul's BatchMatMulV2
 * ~80 µs more than a plain MatMul, see fastMatMul).
 * - q, k, v come from one 2-D product with a derived kernel whose columns are grouped by KV head,
 *   [the group's q heads | k | v] (kvHeads·(group+2) slots of headDim), q pre-scaled by
 *   1/√headDim. With RoPE a second derived kernel has each rotated head's halves swapped, so
 *   RoPE is y·cos + ŷ·signedSin with no split or concat.
 * - One reshape and one split give q [b, kv, group·t, hd], k and v [b, kv, t, hd]: grouped query
 *   heads attend as one batch per KV head, with no repeated keys.
 * Same numbers as the full forward up to float rounding. The derived kernels are rebuilt whenever
 * a projection's weights change, and freed by `dispose`.
 */
export class AttentionDecoder {
  private readonly kernel: DerivedWeights<tf.Tensor>;
  private readonly bias: DerivedWeights<tf.Tensor>;
  /** The same with each rotated head's halves swapped: ŷ = [x2, x1] for RoPE. */
  private readonly swappedKernel: DerivedWeights<tf.Tensor>;
  private readonly swappedBias: DerivedWeights<tf.Tensor>;
  /** Column of [q·scale | k | v] that each fused column reads, plain and with halves swapped. */
  private readonly order: Int32Array;
  private readonly swapped: Int32Array;
  /** [F] whether the fused column is rotated by RoPE (q and k) or not (v). */
  private readonly rotated: Uint8Array;

  constructor(private readonly layer: Attention) {
    const {numHeads, numKvHeads, headDim, rope} = layer;
    const group = numHeads / numKvHeads;
    const width = (numHeads + 2 * numKvHeads) * headDim;
    this.order = new Int32Array(width);
    this.swapped = new Int32Array(width);
    this.rotated = new Uint8Array(width);
    const half = headDim / 2;
    let col = 0;
    for (let j = 0; j < numKvHeads; j++) {
      const slots = [
        ...Array.from({length: group}, (_, r) => ({start: (j * group + r) * headDim, rotate: rope})), // q
        {start: (numHeads + j) * headDim, rotate: rope}, // k
        {start: (numHeads + numKvHeads + j) * headDim, rotate: false}, // v
      ];
      for (const {start, rotate} of slots) {
        for (let c = 0; c < headDim; c++, col++) {
          this.order[col] = start + c;
          this.swapped[col] = rotate ? start + ((c + half) % headDim) : start + c;
          this.rotated[col] = rotate ? 1 : 0;
        }
      }
    }
    const scale = 1 / Math.sqrt(headDim);
    // [d, H·hd + 2·kv·hd] kernel or its bias → [(d,) F] in fused column order (plain or swapped).
    const fuse = (columns: Int32Array) => (parts: tf.Tensor[]) => {
      const axis = parts[0]!.rank - 1;
      const joined = tf.concat([tf.mul(parts[0]!, scale), parts[1]!, parts[2]!], axis);
      return tf.gather(joined, columns, axis);
    };
    this.kernel = new DerivedWeights(fuse(this.order));
    this.bias = new DerivedWeights(fuse(this.order));
    this.swappedKernel = new DerivedWeights(fuse(this.swapped));
    this.swappedBias = new DerivedWeights(fuse(this.swapped));
  }

  /** True when every projection is a plain Dense (a LoRA adapter takes the layer's general path). */
  static supports(layer: Attention): boolean {
    return SITES.every((p) => layer.sublayers().get(p)?.getClassName() === 'Dense');
  }

  /** `input` [rows, d] times a derived fused q|k|v kernel (plus its bias): [rows, F]. */
  private fusedProjection(input: tf.Tensor2D, [q, k, v]: tf.Tensor[][]) {
    const useBias = this.layer.useBias;
    return (kernel: DerivedWeights<tf.Tensor>, bias: DerivedWeights<tf.Tensor>) => {
      const y = fastMatMul(input, kernel.get([q![0]!, k![0]!, v![0]!]) as tf.Tensor2D);
      return useBias ? tf.add(y, bias.get([q![1]!, k![1]!, v![1]!])) : y;
    };
  }

  /** Same contract as Attention.callWithCache: x [b, t, d] → output [b, t, d] and a new cache. */
  step(x: tf.Tensor3D, cache: KVCache | null, ragged?: RaggedRows): {output: tf.Tensor3D; cache: KVCache} {
    const {numHeads, numKvHeads, headDim, qUnits, dModel, useBias, rope} = this.layer;
    const [batch, length] = x.shape;
    const group = numHeads / numKvHeads;
    const offset = kvCacheLength(cache);
    const rows = batch * length;
    const weights = this.projections();
    const o = weights[3];
    const project = this.fusedProjection(tf.reshape(x, [rows, dModel]) as tf.Tensor2D, weights); // [rows, F]
    let y = project(this.kernel, this.bias);
    if (rope) {
      const positions = ragged?.positions ?? Array.from({length: batch}, () => offset);
      const {cos, signedSin} = this.ropeTables(positions, length);
      y = tf.add(tf.mul(y, cos), tf.mul(project(this.swappedKernel, this.swappedBias), signedSin));
    }
    const slots = (group + 2) * length;
    const grouped =
      length === 1
        ? tf.reshape(y, [batch, numKvHeads, slots, headDim])
        : tf.reshape(
            tf.transpose(tf.reshape(y, [batch, length, numKvHeads * (group + 2), headDim]), [0, 2, 1, 3]),
            [batch, numKvHeads, slots, headDim],
          );
    const [queries, newKeys, newValues] = tf.split(grouped, [group * length, length, length], 2);
    const keys = cache ? tf.concat([cache.keys, newKeys!], 2) : newKeys!; // [b, kv, T, hd]
    const values = cache ? tf.concat([cache.values, newValues!], 2) : newValues!;
    let scores = smallBatchMatMul(queries!, keys, false, true); // [b, kv, group·t, T]
    // A single new token sees every key of its own sequence: no mask, but the padding of ragged rows.
    if (ragged) scores = tf.add(scores, ragged.mask);
    else if (length > 1) scores = tf.add(scores, groupedCausalMask(group, length, offset));
    const context = smallBatchMatMul(tf.softmax(scores), values); // [b, kv, group·t, hd]
    const merged =
      length === 1
        ? tf.reshape(context, [rows, qUnits])
        : tf.reshape(tf.transpose(tf.reshape(context, [batch, numHeads, length, headDim]), [0, 2, 1, 3]), [
            rows,
            qUnits,
          ]);
    let output = fastMatMul(merged as tf.Tensor2D, o![0]! as tf.Tensor2D) as tf.Tensor; // [rows, h·hd] → [rows, d]
    if (useBias) output = tf.add(output, o![1]!);
    return {
      output: tf.reshape(output, [batch, length, dModel]) as tf.Tensor3D,
      cache: {keys: keys as tf.Tensor4D, values: values as tf.Tensor4D},
    };
  }

  /**
   * One token per row against a cache of fixed capacity (FixedSlot): x [b, 1, d] → output [b, 1, d]
   * and the cache with the new keys and values rolled in on the right, same shapes as it came in.
   * Reads nothing from JS that changes between steps, so a step can be captured and replayed.
   */
  stepFixed(x: tf.Tensor3D, cache: KVCache, slot: FixedSlot): {output: tf.Tensor3D; cache: KVCache} {
    const {numHeads, numKvHeads, headDim, qUnits, dModel, useBias, rope} = this.layer;
    const batch = x.shape[0];
    const group = numHeads / numKvHeads;
    const weights = this.projections();
    const o = weights[3];
    const project = this.fusedProjection(tf.reshape(x, [batch, dModel]) as tf.Tensor2D, weights); // [b, F]
    let y = project(this.kernel, this.bias);
    if (rope) {
      if (!slot.rope) throw new Error("a RoPE attention needs the slot's rope tables");
      const swapped = project(this.swappedKernel, this.swappedBias);
      y = tf.add(tf.mul(y, slot.rope.cos), tf.mul(swapped, slot.rope.signedSin));
    }
    const grouped = tf.reshape(y, [batch, numKvHeads, group + 2, headDim]);
    const [queries, newKeys, newValues] = tf.split(grouped, [group, 1, 1], 2);
    const keys = rollIn(cache.keys, newKeys!); // [b, kv, W, hd]
    const values = rollIn(cache.values, newValues!);
    const scores = tf.add(smallBatchMatMul(queries!, keys, false, true), slot.mask); // [b, kv, group, W]
    const context = smallBatchMatMul(tf.softmax(scores), values); // [b, kv, group, hd]
    let output = fastMatMul(
      tf.reshape(context, [batch, qUnits]) as tf.Tensor2D,
      o![0]! as tf.Tensor2D,
    ) as tf.Tensor;
    if (useBias) output = tf.add(output, o![1]!);
    return {
      output: tf.reshape(output, [batch, 1, dModel]) as tf.Tensor3D,
      cache: {keys: keys as tf.Tensor4D, values: values as tf.Tensor4D},
    };
  }

  /**
   * The fused kernels stepFixed reads, built now if need be: a captured step takes them as inputs,
   * not captures, so it outlives their release at the end of a generation.
   */
  fixedWeights(): tf.Tensor[] {
    const {useBias, rope} = this.layer;
    const [q, k, v] = this.projections();
    const kernels = [q![0]!, k![0]!, v![0]!];
    const biases = useBias ? [q![1]!, k![1]!, v![1]!] : [];
    return [
      this.kernel.get(kernels),
      ...(useBias ? [this.bias.get(biases)] : []),
      ...(rope ? [this.swappedKernel.get(kernels)] : []),
      ...(rope && useBias ? [this.swappedBias.get(biases)] : []),
    ];
  }

  /** The RoPE tables of FixedSlot for one new token per row at `positions` ([b, F] each). */
  slotRope(positions: readonly number[]): {cos: tf.Tensor2D; signedSin: tf.Tensor2D} {
    return this.ropeTables(positions, 1);
  }

  /** The [kernel] or [kernel, bias] of the q, k, v and o projections (plain Dense layers). */
  private projections(): tf.Tensor[][] {
    return SITES.map((p) =>
      this.layer
        .sublayers()
        .get(p)!
        .weights.map((w) => w.read()),
    );
  }

  dispose(): void {
    for (const w of [this.kernel, this.bias, this.swappedKernel, this.swappedBias]) w.dispose();
  }

  /**
   * [b·t, F] each: cos and signedSin on rotated columns (1 and 0 on v) at each row's position, the
   * first token of batch row b sitting at `starts[b]`.
   */
  private ropeTables(starts: readonly number[], length: number): {cos: tf.Tensor2D; signedSin: tf.Tensor2D} {
    const {headDim, ropeTheta} = this.layer;
    const host = ropeHostTables(Math.max(...starts) + length, headDim, ropeTheta);
    const width = this.order.length;
    const rows = starts.length * length;
    const cos = new Float32Array(rows * width);
    const signedSin = new Float32Array(rows * width);
    for (let r = 0; r < rows; r++) {
      const base = (starts[Math.floor(r / length)]! + (r % length)) * headDim;
      for (let col = 0; col < width; col++) {
        const c = base + (this.order[col]! % headDim);
        const rotate = this.rotated[col] === 1;
        cos[r * width + col] = rotate ? host.cos[c]! : 1;
        signedSin[r * width + col] = rotate ? host.signedSin[c]! : 0;
      }
    }
    return {cos: tf.tensor2d(cos, [rows, width]), signedSin: tf.tensor2d(signedSin, [rows, width])};
  }
}

/**
 * `cache` [b, kv, W, hd] shifted one column left, `fresh` [b, kv, 1, hd] appended on the right: a
 * slice and a concat, copies at memory speed (a write at a column given as a tensor, by select or
 * scatter, runs Eigen's much slower broadcasting kernels on CPU).
 */
function rollIn(cache: tf.Tensor4D, fresh: tf.Tensor): tf.Tensor4D {
  const [b, kv, w, hd] = cache.shape;
  return tf.concat([tf.slice(cache, [0, 0, 1, 0], [b, kv, w - 1, hd]), fresh], 2) as tf.Tensor4D;
}

/** [group·t, offset+t] additive mask: query row r·t + i (position offset+i) sees keys 0 … offset+i. */
function groupedCausalMask(group: number, length: number, offset: number): tf.Tensor2D {
  const total = offset + length;
  const mask = new Float32Array(group * length * total);
  for (let row = 0; row < group * length; row++) {
    const i = row % length;
    mask.fill(-1e9, row * total + offset + i + 1, (row + 1) * total);
  }
  return tf.tensor2d(mask, [group * length, total]);
}
