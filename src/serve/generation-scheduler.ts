import type * as tf from '@tensorflow/tfjs';
import {Rng} from '../data/rng.js';
import type {BatchDecoder} from '../models/causal-lm/batch-decoder.js';
import {type SamplingOptions, sampleToken} from '../models/causal-lm/sampling.js';
import {TokenStream} from '../tokenizer/token-stream.js';
import type {Tokenizer} from '../tokenizer/tokenizer.js';

export interface GenerationRequest {
  /** The prompt's token ids (at least one, fewer than the context length). */
  promptIds: number[];
  maxTokens: number;
  sampling: SamplingOptions;
  /** Seed of this sequence's sampler: same seed, same text. */
  seed: number;
  /** Stop when the text contains one of these (left out of the result). */
  stop: readonly string[];
  /** Each piece of text as it is decoded (streaming). */
  onText?: (text: string) => void;
  /** Aborted (the client went away): the sequence leaves the batch at the next step. */
  signal?: AbortSignal;
}

/** Why a sequence ended: as `generate` says it, plus `aborted`. */
export type FinishReason = 'max_tokens' | 'stop' | 'eos' | 'context' | 'aborted';

export interface GenerationResult {
  text: string;
  ids: number[];
  promptTokens: number;
  finishReason: FinishReason;
}

export interface SchedulerOptions {
  /** Sequences decoded together at most; more wait to join. */
  maxBatch: number;
  contextLength: number;
  /** Told each decoding step's batch size, tokens made and seconds. */
  onStep?: (sequences: number, tokens: number, seconds: number) => void;
  /** Told how long a request waited before its prompt was prefilled (seconds). */
  onJoin?: (seconds: number) => void;
}

interface Sequence {
  request: GenerationRequest;
  arrivedAt: number;
  rng: Rng;
  stream: TokenStream;
  ids: number[];
  text: string;
  /** The handle in the BatchDecoder, once prefilled. */
  id?: number;
  /** The token to feed at the next step. */
  next?: number;
  finish?: FinishReason;
  resolve: (result: GenerationResult) => void;
  reject: (err: unknown) => void;
}

/**
 * Continuous batching for a language model (as vLLM and TGI schedule): one loop steps every active
 * sequence in one batched forward pass; new requests join at the next step (prompts that arrived
 * together prefilled in one batched pass) instead of waiting for the batch to finish, and a
 * finished sequence leaves at once. Each sequence samples with its own seeded generator and stops
 * exactly as `generate` does, so batching changes no result. Between steps the loop yields to the
 * event loop, so requests arrive and streamed text goes out while it runs.
 */
export class GenerationScheduler {
  private readonly waiting: Sequence[] = [];
  private readonly active = new Map<number, Sequence>();
  private looping = false;
  private idle: (() => void)[] = [];

  constructor(
    private readonly decoder: BatchDecoder,
    private readonly tokenizer: Tokenizer,
    private readonly options: SchedulerOptions,
  ) {}

  /** Requests waiting to join. */
  get depth(): number {
    return this.waiting.length;
  }

  /** Sequences being decoded. */
  get running(): number {
    return this.active.size;
  }

  generate(request: GenerationRequest): Promise<GenerationResult> {
    return new Promise((resolve, reject) => {
      this.waiting.push({
        request,
        arrivedAt: performance.now(),
        rng: new Rng(request.seed),
        stream: new TokenStream(this.tokenizer),
        ids: [],
        text: '',
        resolve,
        reject,
      });
      if (!this.looping) void this.loop();
    });
  }

  /** Resolves once no sequence is waiting or running. */
  drained(): Promise<void> {
    if (!this.looping) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private async loop(): Promise<void> {
    this.looping = true;
    try {
      while (this.waiting.length > 0 || this.active.size > 0) {
        const room = this.options.maxBatch - this.active.size;
        if (this.waiting.length > 0 && room > 0) await this.join(this.waiting.splice(0, room));
        if (this.active.size > 0) await this.step().catch((err) => this.failActive(err));
        // Let requests in and streamed text out between steps.
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      this.looping = false;
      for (const done of this.idle.splice(0)) done();
    }
  }

  /** Prefills `seqs` together (one batched pass per prompt length); if that fails, one by one, so a bad prompt fails alone. */
  private async join(seqs: Sequence[]): Promise<void> {
    const live: Sequence[] = [];
    for (const seq of seqs) {
      this.options.onJoin?.((performance.now() - seq.arrivedAt) / 1000);
      if (seq.request.signal?.aborted) await this.finish(seq, 'aborted');
      else live.push(seq);
    }
    let added: {id: number; logits: tf.Tensor1D}[] | undefined;
    try {
      if (live.length > 1) added = this.decoder.addAll(live.map((s) => s.request.promptIds));
    } catch {
      // addAll checks every prompt before it changes the batch: retry one by one below.
    }
    const joined: {seq: Sequence; logits: tf.Tensor1D}[] = [];
    for (const [i, seq] of live.entries()) {
      try {
        const one = added?.[i] ?? this.decoder.add(seq.request.promptIds);
        seq.id = one.id;
        this.active.set(seq.id, seq);
        joined.push({seq, logits: one.logits});
      } catch (err) {
        seq.reject(err);
      }
    }
    for (const {seq, logits} of joined) {
      const values = (await logits.data()) as Float32Array;
      logits.dispose();
      await this.accept(seq, values);
    }
  }

  private async step(): Promise<void> {
    const order = this.decoder.sequences.map((id) => this.active.get(id)!);
    const started = performance.now();
    const logits = this.decoder.step(order.map((s) => s.next!));
    const values = (await logits.data()) as Float32Array;
    logits.dispose();
    const vocab = values.length / order.length;
    for (const [i, seq] of order.entries())
      await this.accept(seq, values.subarray(i * vocab, (i + 1) * vocab));
    this.options.onStep?.(order.length, order.length, (performance.now() - started) / 1000);
  }

  /** A step failed: every active sequence gets the error and leaves. */
  private failActive(err: unknown): void {
    for (const [id, seq] of this.active) {
      this.decoder.remove(id);
      seq.reject(err);
    }
    this.active.clear();
  }

  /** Samples the sequence's next token from `logits` and stops it as `generate` would. */
  private async accept(seq: Sequence, logits: Float32Array): Promise<void> {
    const {request} = seq;
    if (request.signal?.aborted) return this.finish(seq, 'aborted');
    const id = sampleToken(logits, request.sampling, () => seq.rng.next());
    if (id === this.tokenizer.special.eos) return this.finish(seq, 'eos');
    seq.ids.push(id);
    const piece = await seq.stream.push(id);
    seq.text += piece;
    const stop = request.stop.find((s) => s !== '' && seq.text.includes(s));
    if (stop !== undefined) {
      seq.text = seq.text.slice(0, seq.text.indexOf(stop));
      return this.finish(seq, 'stop');
    }
    if (piece) request.onText?.(piece);
    if (seq.ids.length >= request.maxTokens) return this.finish(seq, 'max_tokens');
    if (request.promptIds.length + seq.ids.length >= this.options.contextLength)
      return this.finish(seq, 'context');
    seq.next = id;
  }

  private async finish(seq: Sequence, reason: FinishReason): Promise<void> {
    if (seq.id !== undefined) {
      this.decoder.remove(seq.id);
      this.active.delete(seq.id);
    }
    if (reason !== 'stop' && reason !== 'aborted') {
      const rest = await seq.stream.flush();
      seq.text += rest;
      if (rest) seq.request.onText?.(rest);
    }
    seq.resolve({
      text: seq.text,
      ids: seq.ids,
      promptTokens: seq.request.promptIds.length,
      finishReason: reason,
    });
  }
}
