import * as tf from '@tensorflow/tfjs';
import {ModelError} from '../errors.js';

/**
 * Rotary position embedding (Su et al. 2021, "RoFormer"), rotate-half layout as in GPT-NeoX and
 * LLaMA: dimension i of the first half pairs with i + d/2 and turns by angle pos·theta^(-2i/d).
 * Pure functions; attention applies them to q and k after the head split.
 */

/** cos and sin tables, each [length, headDim], for positions offset … offset+length-1. */
export function ropeTables(
  offset: number,
  length: number,
  headDim: number,
  theta = 10000,
): {cos: tf.Tensor2D; sin: tf.Tensor2D} {
  const tables = hostTables(offset + length, headDim, theta);
  return {cos: slice(tables.cos, offset, length, headDim), sin: slice(tables.sin, offset, length, headDim)};
}

/**
 * Rotates x [batch, heads, length, headDim] as if its first token sat at position `offset`, or, with
 * one offset per batch row (ragged batched decoding), row b's first token at `offset[b]`.
 */
export function applyRope(
  x: tf.Tensor4D,
  offset: number | readonly number[] = 0,
  theta = 10000,
): tf.Tensor4D {
  return tf.tidy(() => {
    const [batch, , length, headDim] = x.shape;
    const offsets = typeof offset === 'number' ? [offset] : offset;
    const tables = hostTables(Math.max(...offsets) + length, headDim, theta);
    // [length, hd] for one offset, [b, 1, length, hd] for one per row.
    const rows = (table: Float32Array) => {
      if (typeof offset === 'number') return slice(table, offset, length, headDim);
      if (offsets.length !== batch) {
        throw new ModelError(`applyRope: ${offsets.length} row offsets for a batch of ${batch}`);
      }
      const out = new Float32Array(batch * length * headDim);
      for (const [b, o] of offsets.entries()) {
        out.set(table.subarray(o * headDim, (o + length) * headDim), b * length * headDim);
      }
      return tf.tensor4d(out, [batch, 1, length, headDim]);
    };
    const cos = rows(tables.cos);
    const signedSin = rows(tables.signedSin);
    const [x1, x2] = tf.split(x, 2, 3);
    // rotate_half(x)·sin = [-x2, x1]·sin = [x2, x1]·signedSin, one kernel fewer per call.
    return tf.add(tf.mul(x, cos), tf.mul(tf.concat([x2!, x1!], 3), signedSin)) as tf.Tensor4D;
  });
}

/**
 * The host tables behind `applyRope`, row-major [≥ positions, headDim]: cos, and sin with its first
 * half negated (so rotate_half(x)·sin = [x2, x1]·signedSin). For callers that fold RoPE into
 * their own products (cached decoding).
 */
export function ropeHostTables(
  positions: number,
  headDim: number,
  theta = 10000,
): {cos: Float32Array; signedSin: Float32Array} {
  return hostTables(positions, headDim, theta);
}

// The tables are computed once per (headDim, theta) on the host, in float64, and grown by doubling:
// a decoding step then uploads two small slices instead of running a dozen kernels.
interface HostTables {
  cos: Float32Array;
  sin: Float32Array;
  /** sin with the first half negated. */
  signedSin: Float32Array;
  positions: number;
}
const host = new Map<string, HostTables>();

function slice(table: Float32Array, offset: number, length: number, headDim: number): tf.Tensor2D {
  return tf.tensor2d(table.subarray(offset * headDim, (offset + length) * headDim), [length, headDim]);
}

function hostTables(positions: number, headDim: number, theta: number): HostTables {
  const key = `${headDim}:${theta}`;
  const known = host.get(key);
  if (known && known.positions >= positions) return known;
  const size = Math.max(positions, 2 * (known?.positions ?? 0), 256);
  const half = headDim / 2;
  const cos = new Float32Array(size * headDim);
  const sin = new Float32Array(size * headDim);
  const signedSin = new Float32Array(size * headDim);
  for (let p = 0; p < size; p++) {
    for (let i = 0; i < half; i++) {
      const angle = p * theta ** ((-2 * i) / headDim);
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      cos[p * headDim + i] = cos[p * headDim + half + i] = c;
      sin[p * headDim + i] = sin[p * headDim + half + i] = s;
      signedSin[p * headDim + i] = -s;
      signedSin[p * headDim + half + i] = s;
    }
  }
  const tables = {cos, sin, signedSin, positions: size};
  host.set(key, tables);
  return tables;
}
