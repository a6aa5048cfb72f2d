import * as tf from '@tensorflow/tfjs';
import {ModelError} from '../../errors.js';
import {disposeKVCache, type KVCache, raggedMask} from '../../layers/kv-cache.js';
import {DecoderLayers} from './cached-decoder.js';
import type {CausalLMConfig} from './causal-lm.js';
import {cacheCapacity, cacheColumns, FixedCacheSteps, resizeCaches} from './fixed-cache-steps.js';

/** A sequence in the batch: its handle, tokens held, and the first cache column that is its own. */
interface Row {
  id: number;
  length: number;
  start: number;
}

/**
 * Many sequences decoded together, one batched forward pass per step, for continuous batching
 * (as vLLM and TGI do it): sequences join with their prompts prefilled (`add`, or `addAll` batched), then every
 * `step` feeds one token per sequence through the model at once, and a finished one leaves
 * (`remove`) without disturbing the others. Sequences differ in length: the batch keeps one cache
 * per block, [rows, kvHeads, W, headDim], with each row's keys right-aligned and padding on the
 * left masked out (see RaggedRows); keys are cached after RoPE, so each row keeps its own
 * positions. Gives the logits CachedDecoder gives each sequence alone, up to float rounding.
 */
export class BatchDecoder {
  private readonly layers: DecoderLayers;
  private caches: (KVCache | null)[];
  private rows: Row[] = [];
  /** Columns of the caches. */
  private width = 0;
  private nextId = 0;
  /** Steps as captured functions over caches of fixed capacity (columns past `width` unused), where supported. */
  private readonly fixed?: FixedCacheSteps;

  constructor(
    model: tf.LayersModel,
    readonly config: CausalLMConfig,
  ) {
    this.layers = new DecoderLayers(model, config);
    this.caches = this.layers.blocks.map(() => null);
    if (FixedCacheSteps.supported(this.layers)) this.fixed = FixedCacheSteps.of(this.layers);
  }

  /** Handles of the sequences in the batch, in the order `step` takes tokens and returns logits. */
  get sequences(): number[] {
    return this.rows.map((r) => r.id);
  }

  /** Tokens sequence `id` holds (prompt and generated). */
  lengthOf(id: number): number {
    return this.row(id).length;
  }

  /** Prefills `ids` (a prompt) as a new sequence; returns its handle and the logits [vocab] after it. */
  add(ids: readonly number[]): {id: number; logits: tf.Tensor1D} {
    return this.addAll([ids])[0]!;
  }

  /**
   * Prefills several prompts as new sequences, in that order; returns each one's handle and logits
   * [vocab]. Prompts of one length go through the model as one batched forward pass: grouped by
   * length rather than padded to the longest, so no prefill needs a mask or per-row positions
   * (the unmasked causal pass is the one `add` runs alone) and no row computes padding; a batch of
   * requests of a few distinct lengths costs one pass per length.
   */
  addAll(prompts: readonly (readonly number[])[]): {id: number; logits: tf.Tensor1D}[] {
    const bad = prompts.find((ids) => ids.length === 0 || ids.length > this.config.contextLength);
    if (bad) {
      throw new ModelError(
        `a prompt must have 1 to ${this.config.contextLength} tokens (the model's context), got ${bad.length}`,
      );
    }
    this.trimCaches();
    const groups = new Map<number, number[]>();
    for (const [i, ids] of prompts.entries()) groups.set(ids.length, [...(groups.get(ids.length) ?? []), i]);
    const out: {id: number; logits: tf.Tensor1D}[] = [];
    const held = this.rows.length;
    const firstId = this.nextId;
    this.nextId += prompts.length;
    for (const [length, members] of groups) {
      const input = tf.tensor2d(
        members.flatMap((i) => [...prompts[i]!]),
        [members.length, length],
        'int32',
      );
      const {logits, caches} = this.layers.forward(
        input,
        this.layers.blocks.map(() => null),
        0,
      );
      input.dispose();
      this.join(caches, length);
      const rows = tf.unstack(logits) as tf.Tensor1D[];
      logits.dispose();
      for (const [j, i] of members.entries()) {
        this.rows.push({id: firstId + i, length, start: this.width - length});
        out[i] = {id: firstId + i, logits: rows[j]!};
      }
    }
    // Groups joined in turn; the new rows go back to the prompts' order.
    if (groups.size > 1) {
      const added = this.rows.slice(held).sort((a, b) => a.id - b.id);
      this.reorder([...this.rows.keys()].slice(0, held).concat(added.map((r) => this.rows.indexOf(r))));
    }
    return out;
  }

  /** Puts the batch's rows (and their cache rows) in the order `order` lists their current indices. */
  private reorder(order: number[]): void {
    this.caches = this.caches.map((cache) => {
      const next = tf.tidy(() => ({
        keys: tf.gather(cache!.keys, order, 0) as tf.Tensor4D,
        values: tf.gather(cache!.values, order, 0) as tf.Tensor4D,
      }));
      disposeKVCache(cache);
      return next;
    });
    this.rows = order.map((i) => this.rows[i]!);
  }

  /** Appends the caches of new rows, each `length` columns, below the batch's (both padded on the left to the wider width). */
  private join(own: KVCache[], length: number): void {
    const width = Math.max(this.width, length);
    const padLeft = (t: tf.Tensor4D, n: number) =>
      n === 0
        ? t
        : tf.pad(t, [
            [0, 0],
            [0, 0],
            [n, 0],
            [0, 0],
          ]);
    const stack = (batch: tf.Tensor4D, rows: tf.Tensor4D) =>
      tf.tidy(() => tf.concat([padLeft(batch, width - this.width), padLeft(rows, width - length)], 0));
    this.caches = this.caches.map((cache, i) => {
      const rows = own[i]!;
      if (!cache) return rows;
      const merged = {keys: stack(cache.keys, rows.keys), values: stack(cache.values, rows.values)};
      disposeKVCache(cache);
      disposeKVCache(rows);
      return merged;
    });
    for (const r of this.rows) r.start += width - this.width;
    this.width = width;
  }

  /**
   * Feeds one token to every sequence, `tokens[i]` to `sequences[i]`, in one forward pass; returns
   * the logits [sequences, vocab] after each, in the same order.
   */
  step(tokens: readonly number[]): tf.Tensor2D {
    if (tokens.length !== this.rows.length || tokens.length === 0) {
      throw new ModelError(
        `step takes one token for each of the ${this.rows.length} sequences, got ${tokens.length}`,
      );
    }
    const full = this.rows.find((r) => r.length >= this.config.contextLength);
    if (full)
      throw new ModelError(`sequence ${full.id} holds ${full.length} tokens, the most the model reads`);
    const held = this.caches as KVCache[];
    if (this.fixed) {
      const capacity = cacheCapacity(this.width + 1, this.config.contextLength);
      if (cacheColumns(held) < capacity) this.caches = resizeCaches(held, capacity);
      const {logits, caches} = this.fixed.step(
        tokens,
        this.caches as KVCache[],
        this.width,
        this.rows.map((r) => r.start),
        this.rows.map((r) => r.length),
      );
      for (const c of this.caches) disposeKVCache(c);
      this.caches = caches;
      this.width++;
      for (const r of this.rows) r.length++;
      return logits;
    }
    const input = tf.tensor2d([...tokens], [tokens.length, 1], 'int32');
    const rows = {
      positions: this.rows.map((r) => r.length),
      mask: raggedMask(
        this.rows.map((r) => r.start),
        this.width,
      ),
    };
    const {logits, caches} = this.layers.forward(input, this.caches, 0, rows);
    tf.dispose([input, rows.mask]);
    for (const c of this.caches) disposeKVCache(c);
    this.caches = caches;
    this.width++;
    for (const r of this.rows) r.length++;
    return logits;
  }

  /** Takes sequence `id` out of the batch, and the cache columns no remaining sequence uses. */
  remove(id: number): void {
    const index = this.rows.indexOf(this.row(id));
    this.trimCaches();
    this.rows.splice(index, 1);
    if (this.rows.length === 0) {
      for (const c of this.caches) disposeKVCache(c);
      this.caches = this.caches.map(() => null);
      this.width = 0;
      return;
    }
    const keep = Math.min(...this.rows.map((r) => r.start));
    const kept = this.rows.map((_, i) => (i < index ? i : i + 1));
    const shrink = (t: tf.Tensor4D) =>
      tf.tidy(() => {
        const rows = tf.gather(t, kept, 0) as tf.Tensor4D;
        return keep === 0 ? rows : (tf.slice(rows, [0, 0, keep, 0], [-1, -1, -1, -1]) as tf.Tensor4D);
      });
    this.caches = this.caches.map((cache) => {
      const next = {keys: shrink(cache!.keys), values: shrink(cache!.values)};
      disposeKVCache(cache);
      return next;
    });
    for (const r of this.rows) r.start -= keep;
    this.width -= keep;
  }

  /** Leaves the caches exactly `width` columns wide, as `add` and `remove` read them (the fixed path pads them). */
  private trimCaches(): void {
    const held = this.caches.filter((c): c is KVCache => c !== null);
    if (held.length === this.caches.length && cacheColumns(held) > this.width)
      this.caches = resizeCaches(held, this.width);
  }

  /** Frees every cache and the blocks' decoding kernels; the decoder is empty afterwards. */
  dispose(): void {
    for (const c of this.caches) disposeKVCache(c);
    this.caches = this.caches.map(() => null);
    this.rows = [];
    this.width = 0;
    this.layers.release();
  }

  private row(id: number): Row {
    const row = this.rows.find((r) => r.id === id);
    if (!row) throw new ModelError(`no sequence ${id} in the batch`);
    return row;
  }
}
