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
