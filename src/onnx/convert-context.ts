import {ModelError} from '../errors.js';
import {ropeHostTables} from '../layers/rope.js';
import {DType, type GraphBuilder} from './onnx-graph.js';
import type {OnnxWeights} from './onnx-weights.js';

/** How MoE layers run in the graph: every expert on every token, or each token's k experts only. */
export const MOE_GRAPHS = ['dense', 'sparse'] as const;
export type MoEGraph = (typeof MOE_GRAPHS)[number];

/** A graph value and whether it holds floats (hidden states) or integers (token ids). */
export interface OnnxValue {
  name: string;
  dtype: 'float32' | 'int64';
}

/** One attention layer's cache in the graph: the past it reads and the present it writes. */
export interface KVPair {
  pastKey: string;
  pastValue: string;
  presentKey: string;
  presentValue: string;
  kvHeads: number;
  headDim: number;
}

/**
 * What every layer converter shares: the graph, the weights, the token ids and the state that is
 * built once per graph and reused by every block (position ids, the causal mask, RoPE tables, the
 * KV cache inputs and outputs in layer order).
 */
export class ConvertContext {
  readonly kv: KVPair[] = [];
  private nextKv = 0;
  private positionIds?: string;
  private pastLength?: string;
  private mask?: string;
  private readonly rope = new Map<string, {cos: string; sin: string}>();

  constructor(
    readonly g: GraphBuilder,
    readonly weights: OnnxWeights,
    readonly options: {
      moe: MoEGraph;
      /** Positions the RoPE tables hold. */
      maxPositions: number | null;
      /** A [batch, sequence, ...] value whose second dimension is the new tokens' count (the ids). */
      sequence: string | null;
    },
  ) {}

  /** Declares the KV inputs/outputs of `count` attention layers (call before converting). */
  declareKVCache(layers: {kvHeads: number; headDim: number}[]): void {
    layers.forEach(({kvHeads, headDim}, i) => {
      const shape = (len: string) => ['batch', kvHeads, len, headDim];
      this.kv.push({
        pastKey: this.g.input(`past_key_values.${i}.key`, DType.float, shape('past_sequence')),
        pastValue: this.g.input(`past_key_values.${i}.value`, DType.float, shape('past_sequence')),
        presentKey: `present.${i}.key`,
        presentValue: `present.${i}.value`,
        kvHeads,
        headDim,
      });
    });
  }

  /** The next attention layer's cache, or null when the graph has none. */
  takeKVPair(): KVPair | null {
    if (this.kv.length === 0) return null;
    const pair = this.kv[this.nextKv++];
    if (!pair) throw new Error('ONNX export: more attention layers than declared KV caches');
    return pair;
  }

  /** Positions of the new tokens, past … past + t − 1: int64 [t]. */
  positions(): string {
    if (this.positionIds) return this.positionIds;
    const g = this.g;
    const sequence = this.options.sequence;
    if (!sequence) throw new ModelError('ONNX export: positions need a [batch, sequence, ...] input');
    const t = g.op('Gather', [g.op('Shape', [sequence]), g.int64s([1], [])], {axis: 0}, 'seq_len');
    const past = this.past();
    this.positionIds = g.op('Range', [past, g.op('Add', [past, t]), g.int64s([1], [])], {}, 'position_ids');
    return this.positionIds;
  }

  /**
   * The causal mask [t, past + t], added to attention scores: 0 where query i (position past + i)
   * may see key j (j ≤ past + i), −1e9 elsewhere, as the kit's attention.
   */
  causalMask(): string {
    if (this.mask) return this.mask;
    const g = this.g;
    const query = g.op('Unsqueeze', [this.positions(), g.int64s([1])]); // [t, 1]
    const total = g.op('Add', [g.op('ReduceMax', [this.positions()], {keepdims: 0}), g.int64s([1], [])]);
    const keys = g.op('Range', [g.int64s([0], []), total, g.int64s([1], [])]); // [T]
    const visible = g.op('LessOrEqual', [keys, query]); // [t, T]
    this.mask = g.op('Where', [visible, g.scalar(0), g.scalar(-1e9)], {}, 'causal_mask');
    return this.mask;
  }

  /** cos and signed-sin rows [t, headDim] of the new tokens' positions (see layers/rope.ts). */
  ropeRows(headDim: number, theta: number): {cos: string; sin: string} {
    const key = `${headDim}:${theta}`;
    const known = this.rope.get(key);
    if (known) return known;
    const positions = this.options.maxPositions;
    if (!positions) {
      throw new ModelError(
        'ONNX export: a RoPE model needs the longest sequence it reads (maxPositions)',
        'export from a run folder, or pass maxPositions',
      );
    }
    const host = ropeHostTables(positions, headDim, theta);
    const rows = (name: string, table: Float32Array) =>
      this.g.op(
        'Gather',
        [
          this.weights.float(name, table.slice(0, positions * headDim), [positions, headDim]),
          this.positions(),
        ],
        {axis: 0},
      );
    const made = {
      cos: rows(`rope_cos_${key}`, host.cos),
      sin: rows(`rope_signed_sin_${key}`, host.signedSin),
    };
    this.rope.set(key, made);
    return made;
  }

  /** Tokens already in the cache: a scalar int64 (0 without a cache). */
  private past(): string {
    if (this.pastLength) return this.pastLength;
    const first = this.kv[0];
    this.pastLength = first
      ? this.g.op(
          'Gather',
          [this.g.op('Shape', [first.pastKey]), this.g.int64s([2], [])],
          {axis: 0},
          'past_len',
        )
      : this.g.int64s([0], []);
    return this.pastLength;
  }
}
