import * as tf from '@tensorflow/tfjs';
import {ModelError} from '../../errors.js';
import type {DecoderBlock} from '../../layers/decoder-block.js';
import {disposeKVCache, type KVCache} from '../../layers/kv-cache.js';
import type {LearnedPositions} from '../../layers/learned-positions.js';
import type {TokenEmbedding} from '../../layers/token-embedding.js';
import {blockName, CAUSAL_LM_LAYERS, type CausalLMConfig} from './causal-lm.js';

/**
 * The model's layers taken apart for incremental decoding: each step embeds only the new tokens,
 * runs them through every block against that block's KV cache, and projects the last position.
 */
export class CachedDecoder {
  private readonly embed: TokenEmbedding;
  private readonly positions?: LearnedPositions;
  private readonly blocks: DecoderBlock[];
  private readonly norm: tf.layers.Layer;
  private readonly head?: tf.layers.Layer;
  private caches: (KVCache | null)[];
  /** Tokens the caches hold. */
  length = 0;

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
    this.caches = this.blocks.map(() => null);
  }

  /** Feeds `ids` (the prompt, then one token at a time); returns the logits [vocab] after the last one. */
  step(ids: readonly number[]): tf.Tensor1D {
    if (this.length + ids.length > this.config.contextLength) {
      throw new ModelError(
        `the model reads at most ${this.config.contextLength} tokens, asked for ${this.length + ids.length}`,
      );
    }
    const next: KVCache[] = [];
    const logits = tf.tidy(() => {
      let h = this.embed.apply(tf.tensor2d([...ids], [1, ids.length], 'int32')) as tf.Tensor3D;
      if (this.positions) h = this.positions.addAt(h, this.length);
      for (const [i, block] of this.blocks.entries()) {
        const out = block.callWithCache(h, this.caches[i]);
        tf.keep(out.cache.keys);
        tf.keep(out.cache.values);
        next.push(out.cache);
        h = out.output;
      }
      const last = tf.slice(h, [0, ids.length - 1, 0], [1, 1, -1]);
      const normed = this.norm.apply(last) as tf.Tensor3D;
      const out = this.head ? (this.head.apply(normed) as tf.Tensor) : this.embed.logits(normed);
      return tf.reshape(out, [-1]) as tf.Tensor1D;
    });
    for (const c of this.caches) disposeKVCache(c);
    this.caches = next;
    this.length += ids.length;
    return logits;
  }

  dispose(): void {
    for (const c of this.caches) disposeKVCache(c);
    // The blocks keep a fused attention kernel for decoding; a finished generation frees it.
    for (const block of this.blocks) block.releaseDecodeWeights();
    this.caches = this.blocks.map(() => null);
    this.length = 0;
  }
}
