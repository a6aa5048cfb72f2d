import * as tf from '@tensorflow/tfjs';
import {disposeKVCache, type FixedSlot, type KVCache} from '../../layers/kv-cache.js';
import {graphForwardEnabled} from '../../train/graph-forward.js';
import {CapturedSteps} from '../../train/graph-step.js';
import type {DecoderLayers} from './cached-decoder.js';

/** Smallest capacity of a fixed cache: below it, re-capturing per capacity costs more than it saves. */
const MIN_CAPACITY = 32;

/**
 * Columns of a fixed cache that must hold `needed`: the next power of two from MIN_CAPACITY, at
 * most the context (but never below `needed`). Few capacities, so few captured functions: a
 * 128-token context decodes with three (32, 64, 128).
 */
export function cacheCapacity(needed: number, contextLength: number): number {
  let capacity = MIN_CAPACITY;
  while (capacity < needed) capacity *= 2;
  return Math.max(needed, Math.min(capacity, contextLength));
}

/** Columns a cache has room for (its keys' third dimension). */
export const cacheColumns = (caches: readonly KVCache[]): number => caches[0]?.keys.shape[2] ?? 0;

/**
 * The caches with `columns` columns, filled ones kept on the right (FixedSlot's layout): unused
 * zeros added on the left, or only the rightmost `columns` kept; the given ones are disposed.
 */
export function resizeCaches(caches: readonly KVCache[], columns: number): KVCache[] {
  const resize = (t: tf.Tensor4D) => {
    const [b, kv, w, hd] = t.shape;
    return w < columns
      ? tf.pad(t, [
          [0, 0],
          [0, 0],
          [columns - w, 0],
          [0, 0],
        ])
      : tf.slice(t, [0, 0, w - columns, 0], [b, kv, columns, hd]);
  };
  return caches.map((cache) => {
    const next = tf.tidy(() => ({keys: resize(cache.keys), values: resize(cache.values)}));
    disposeKVCache(cache);
    return next as KVCache;
  });
}

/**
 * Decoding steps of one new token per row against caches of fixed capacity (FixedSlot), each
 * capacity's step captured and replayed as one TensorFlow function (CapturedSteps, as training
 * steps and GraphForward are): the step is some 150 small kernels, mostly dispatch overhead on
 * tfjs-node, and one call of the captured function runs them inside TensorFlow. The step's inputs
 * are the tokens, the slot (mask, positions or RoPE tables), the caches and the fused kernels; its outputs
 * the logits and the new caches. Used by CachedDecoder and BatchDecoder when `supported`.
 */
export class FixedCacheSteps {
  private readonly steps = new Map<number, CapturedSteps<null>>();

  private constructor(private readonly layers: DecoderLayers) {}

  /**
   * The steps of `layers`' model, shared by every decoder of it: capturing a capacity costs some
   * 30–80 ms (a run, two recordings, building the function), which one generation of ~100 tokens
   * would not win back, so the functions outlive a decoder. The blocks' fused decoding kernels,
   * freed when a decoder is disposed and rebuilt by the next, are inputs of the step, not captures;
   * weights changed later make a capacity's function stale, and that capacity then runs op by op.
   */
  static of(layers: DecoderLayers): FixedCacheSteps {
    const key = layers.blocks[0]!;
    let steps = shared.get(key);
    if (!steps) {
      steps = new FixedCacheSteps(layers);
      shared.set(key, steps);
    }
    return steps;
  }

  /**
   * Whether decoding may take this path: on tfjs-node with capture on (`DSK_GRAPH_FORWARD`), and
   * every attention of plain Dense projections. MoE feed-forwards route with TensorFlow ops while a
   * step is recorded, so their steps are captured too; one whose routing reads back (a balancing
   * bias, group-limited routing) runs each step op by op on the fixed caches.
   */
  static supported(layers: DecoderLayers): boolean {
    return graphForwardEnabled() && layers.blocks.every((b) => b.supportsFixedCache());
  }

  /**
   * tokens[b] after the `width` columns of `caches` (held on the right of capacity W > width), row
   * b seeing those from its column starts[b] on (0 … width − 1, as BatchDecoder counts them), at
   * position positions[b] → logits [b, vocab] and the new caches, the token's column rightmost (the
   * given caches are left to the caller).
   */
  step(
    tokens: readonly number[],
    caches: readonly KVCache[],
    width: number,
    starts: readonly number[],
    positions: readonly number[],
  ): {logits: tf.Tensor2D; caches: KVCache[]} {
    const batch = tokens.length;
    const capacity = cacheColumns(caches);
    // After the step, column c of the rows' own count sits at c + capacity − 1 − width.
    const shift = capacity - 1 - width;
    const mask = new Float32Array(batch * capacity).fill(-1e9);
    for (const [b, start] of starts.entries()) mask.fill(0, b * capacity + start + shift, (b + 1) * capacity);
    const slot: FixedSlot = {
      mask: tf.tensor4d(mask, [batch, 1, 1, capacity]),
      ...(this.layers.config.positions === 'rope'
        ? {rope: this.layers.blocks[0]!.fixedSlotRope(positions)}
        : {}),
    };
    const ids = tf.tensor2d([...tokens], [batch, 1], 'int32');
    const at = tf.tensor1d([...positions], 'int32');
    const perStep = [ids, at, slot.mask, ...(slot.rope ? [slot.rope.cos, slot.rope.signedSin] : [])];
    const inputs = [
      ...perStep,
      ...caches.flatMap((c) => [c.keys, c.values]),
      ...this.layers.blocks.flatMap((b) => b.fixedCacheWeights()),
    ];
    let steps = this.steps.get(capacity);
    if (!steps) {
      steps = new CapturedSteps<null>();
      this.steps.set(capacity, steps);
    }
    const {tensors} = steps.run(inputs, () => ({
      tensors: this.layers.stepFixed(ids, caches, slot, at),
      layout: null,
    }));
    tf.dispose(perStep);
    const [logits, ...flat] = tensors;
    const next = caches.map((_, i) => ({
      keys: flat[2 * i] as tf.Tensor4D,
      values: flat[2 * i + 1] as tf.Tensor4D,
    }));
    return {logits: logits as tf.Tensor2D, caches: next};
  }

  /** Removes the captured functions from TensorFlow's context; later steps capture afresh. */
  dispose(): void {
    for (const steps of this.steps.values()) steps.dispose();
    this.steps.clear();
  }
}

/** FixedCacheSteps per model, keyed by its first decoder block. */
const shared = new WeakMap<object, FixedCacheSteps>();
