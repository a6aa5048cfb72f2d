import * as tf from '@tensorflow/tfjs';

/**
 * The keys and values one attention layer has seen so far, after RoPE and before the grouped heads
 * are repeated: each [batch, numKvHeads, length, headDim]. Tensors are eager and owned by the caller
 * of `callWithCache`, which returns a new cache and leaves the old one alone.
 */
// A type alias, not an interface, so it is a tf.TensorContainer and can leave a tf.tidy.
export type KVCache = {
  keys: tf.Tensor4D;
  values: tf.Tensor4D;
};

/** Number of positions a cache holds (0 for none). */
export function kvCacheLength(cache: KVCache | null | undefined): number {
  return cache ? cache.keys.shape[2] : 0;
}

export function disposeKVCache(cache: KVCache | null | undefined): void {
  if (cache) tf.dispose([cache.keys, cache.values]);
}

/**
 * The rows of a batched decoding step over sequences of different lengths (continuous batching):
 * one new token per row, and a cache whose rows hold each sequence's keys right-aligned, padding on
 * the left. Keys are stored after RoPE, so a key's column does not matter, only which columns a row
 * may see.
 */
export interface RaggedRows {
  /** [b] position of each row's new token: the length of its sequence so far. */
  positions: readonly number[];
  /** [b, 1, 1, W + 1] additive mask over the cached columns and the new one: 0 where the row may look, −1e9 on padding. */
  mask: tf.Tensor4D;
}

/**
 * The mask of `RaggedRows` for rows whose valid cache columns start at `starts[b]` of `width`
 * (the new token's column, `width`, is every row's own).
 */
export function raggedMask(starts: readonly number[], width: number): tf.Tensor4D {
  const total = width + 1;
  const mask = new Float32Array(starts.length * total);
  for (const [b, start] of starts.entries()) mask.fill(-1e9, b * total, b * total + start);
  return tf.tensor4d(mask, [starts.length, 1, 1, total]);
}

/**
 * What a decoding step against caches of fixed capacity needs besides the tokens (one new token per
 * row). Such a cache [b, kv, W, hd] holds its filled columns on the right, unused ones on the left;
 * a step drops the leftmost column and appends the new keys and values on the right, so every step
 * of a capacity has the same shapes and can be replayed as one captured TensorFlow function. All
 * of it is tensors, inputs of that function; the values change every step.
 */
export interface FixedSlot {
  /** [b, 1, 1, W] additive mask: 0 on the columns row b may look at after the step (the new one, rightmost, included), −1e9 elsewhere. */
  mask: tf.Tensor4D;
  /** RoPE only: [b, F] cos and signed sin of each row's position in the fused q|k|v column order. */
  rope?: {cos: tf.Tensor2D; signedSin: tf.Tensor2D};
}
