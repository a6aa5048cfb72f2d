import * as tf from '@tensorflow/tfjs';
import {ModelError} from '../../errors.js';
import type {DecoderBlock} from '../../layers/decoder-block.js';
import {disposeKVCache, type FixedSlot, type KVCache, type RaggedRows} from '../../layers/kv-cache.js';
import type {LearnedPositions} from '../../layers/learned-positions.js';
import type {TokenEmbedding} from '../../layers/token-embedding.js';
import {blockName, CAUSAL_LM_LAYERS, type CausalLMConfig} from './causal-lm.js';
import {cacheCapacity, cacheColumns, FixedCacheSteps, resizeCaches} from './fixed-cache-steps.js';

/**
 * The model's layers taken apart for incremental decoding: `forward` embeds only the new tokens,
 * runs them through every block against that block's KV cache, and projects the last position.
 * CachedDecoder (one sequence) and BatchDecoder (many, continuous batching) hold the caches.
 */
export class DecoderLayers {
  private readonly embed: TokenEmbedding;
  private readonly positions?: LearnedPositions;
  readonly blocks: DecoderBlock[];
  private readonly norm: tf.layers.Layer;
  private readonly head?: tf.layers.Layer;

  constructor(
    model: tf.LayersModel,
    readonly config: CausalLMConfig,
  ) {
    const layer = <L>(name: string) => model.getLayer(name) as unknown as L;
    this.embed = layer(CAUSAL_LM_LAYERS.embed);
    this.positions = config.positions === 'learned' ? layer(CAUSAL_LM_LAYERS.positions) : undefined;
    this.blocks = Array.from({length: config.numLayers}, (_, i) => layer<DecoderBlock>(blockName(i)));
    this.norm = layer(CAUSAL_LM_LAYERS.norm);
    this.head = config.tiedHead ? undefined : layer(CAUSAL_LM_LAYERS.head);
  }

  /**
   * ids [b, t] at positions offset … (or, with ragged `rows`, t = 1 at each row's own position)
   * against one cache per block → the logits [b, vocab] after each row's last token, and the new
   * caches (kept: the caller disposes them; the given ones are left alone).
   */
  forward(
    ids: tf.Tensor2D,
    caches: readonly (KVCache | null)[],
    offset: number,
    rows?: RaggedRows,
  ): {logits: tf.Tensor2D; caches: KVCache[]} {
    const next: KVCache[] = [];
    const [batch, length] = ids.shape;
    const logits = tf.tidy(() => {
      let h = this.embed.apply(ids) as tf.Tensor3D;
      if (this.positions)
        h = rows ? this.positions.addRows(h, rows.positions) : this.positions.addAt(h, offset);
      for (const [i, block] of this.blocks.entries()) {
        const out = block.callWithCache(h, caches[i] ?? null, rows);
        tf.keep(out.cache.keys);
        tf.keep(out.cache.values);
        next.push(out.cache);
        h = out.output;
      }
      const last = length === 1 ? h : tf.slice(h, [0, length - 1, 0], [batch, 1, -1]);
      const normed = this.norm.apply(last) as tf.Tensor3D;
      const out = this.head ? (this.head.apply(normed) as tf.Tensor) : this.embed.logits(normed);
      return tf.reshape(out, [batch, -1]) as tf.Tensor2D;
    });
    return {logits, caches: next};
  }

  /**
   * One new token per row against caches of fixed capacity (FixedSlot; FixedCacheSteps captures
   * it): ids [b, 1], positions [b] int32 (learned positions) → [logits [b, vocab], then each
   * block's new keys and values], all new tensors.
   */
  stepFixed(
    ids: tf.Tensor2D,
    caches: readonly KVCache[],
    slot: FixedSlot,
    positions: tf.Tensor1D,
  ): tf.Tensor[] {
    const batch = ids.shape[0];
    return tf.tidy(() => {
      let h = this.embed.apply(ids) as tf.Tensor3D;
      if (this.positions) h = this.positions.addRows(h, positions);
      const next: tf.Tensor[] = [];
      for (const [i, block] of this.blocks.entries()) {
        const out = block.callWithFixedCache(h, caches[i]!, slot);
        next.push(out.cache.keys, out.cache.values);
        h = out.output;
      }
      const normed = this.norm.apply(h) as tf.Tensor3D;
      const out = this.head ? (this.head.apply(normed) as tf.Tensor) : this.embed.logits(normed);
      return [tf.reshape(out, [batch, -1]), ...next];
    });
  }

  /** Frees the fused attention kernels the blocks keep for decoding (rebuilt on the next step). */
  release(): void {
    for (const block of this.blocks) block.releaseDecodeWeights();
  }
}

/** One sequence decoded step by step with its own KV caches (`generate`). */
export class CachedDecoder {
  private readonly layers: DecoderLayers;
  private caches: (KVCache | null)[];
  /** Single-token steps as captured functions over fixed-capacity caches, where supported. */
  private readonly fixed?: FixedCacheSteps;
  /** Tokens the caches hold. */
  length = 0;

  constructor(
    model: tf.LayersModel,
    readonly config: CausalLMConfig,
  ) {
    this.layers = new DecoderLayers(model, config);
    this.caches = this.layers.blocks.map(() => null);
    if (FixedCacheSteps.supported(this.layers)) this.fixed = FixedCacheSteps.of(this.layers);
  }

  /** Feeds `ids` (the prompt, then one token at a time); returns the logits [vocab] after the last one. */
  step(ids: readonly number[]): tf.Tensor1D {
    if (this.length + ids.length > this.config.contextLength) {
      throw new ModelError(
        `the model reads at most ${this.config.contextLength} tokens, asked for ${this.length + ids.length}`,
      );
    }
    const held = this.caches.every((c) => c !== null) ? (this.caches as KVCache[]) : undefined;
    let logits: tf.Tensor2D;
    let caches: KVCache[];
    if (this.fixed && held && ids.length === 1) {
      const capacity = cacheCapacity(this.length + 1, this.config.contextLength);
      if (cacheColumns(held) < capacity) this.caches = resizeCaches(held, capacity);
      ({logits, caches} = this.fixed.step(ids, this.caches as KVCache[], this.length, [0], [this.length]));
    } else {
      // The general path reads caches of exactly the tokens held.
      if (held && cacheColumns(held) > this.length) this.caches = resizeCaches(held, this.length);
      const input = tf.tensor2d([...ids], [1, ids.length], 'int32');
      ({logits, caches} = this.layers.forward(input, this.caches, this.length));
      input.dispose();
    }
    for (const c of this.caches) disposeKVCache(c);
    this.caches = caches;
    this.length += ids.length;
    const row = tf.reshape(logits, [-1]) as tf.Tensor1D;
    logits.dispose();
    return row;
  }

  dispose(): void {
    for (const c of this.caches) disposeKVCache(c);
    // The blocks keep a fused attention kernel for decoding; a finished generation frees it.
    this.layers.release();
    this.caches = this.layers.blocks.map(() => null);
    this.length = 0;
  }
}
