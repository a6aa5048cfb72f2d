import type * as tf from '@tensorflow/tfjs';
import {Rng} from '../data/rng.js';
import {ConfigError} from '../errors.js';
import {CachedDecoder} from '../models/causal-lm/cached-decoder.js';
import {DEFAULT_CAUSAL_LM_CONFIG} from '../models/causal-lm/causal-lm.js';
import {checkSampling, type SamplingOptions, sampleToken} from '../models/causal-lm/sampling.js';
import {TokenStream} from '../tokenizer/token-stream.js';
import type {CausalLMMetadata} from './metadata.js';
import type {RuntimeTokenizer} from './tokenizer.js';

export interface GenerationOptions extends SamplingOptions {
  /** New tokens at most. Default 128. */
  maxTokens?: number;
  /** Seed of the sampler: same seed, same text (as `deepseek-kit generate --seed`). Default 42. */
  seed?: number;
  /** Stop when the text holds one of these; the text ends before it. */
  stop?: readonly string[];
  /**
   * Each new token with the text it completes ('' while a character is still cut across tokens,
   * nothing past a stop string); at the end, if a character was left cut, its U+FFFD with id null.
   */
  onToken?: (text: string, id: number | null) => void;
}

export interface Generation {
  text: string;
  /** New token ids (a stop string's tokens included, the end-of-text token not). */
  ids: number[];
  /** `max_tokens`, `stop` (a stop string), `eos` (end-of-text token), `context` (the model's length is full). */
  stoppedBy: 'max_tokens' | 'stop' | 'eos' | 'context';
  promptTokens: number;
}

/**
 * A causal language model: a prompt → its continuation, one token per step through the KV cache
 * (each step runs only the new token through the blocks), sampled as `deepseek-kit generate`
 * samples, so the same seed gives the same text in the browser as in Node.
 */
export class LanguageModel {
  readonly kind = 'causal-lm' as const;

  constructor(
    readonly model: tf.LayersModel,
    readonly tokenizer: RuntimeTokenizer,
    readonly metadata: CausalLMMetadata,
  ) {}

  async generate(prompt: string, options: GenerationOptions = {}): Promise<Generation> {
    checkSampling(options);
    const maxTokens = options.maxTokens ?? 128;
    if (!(Number.isInteger(maxTokens) && maxTokens >= 1)) {
      throw new ConfigError(`maxTokens must be a whole number ≥ 1, got ${maxTokens}`);
    }
    const {contextLength, specialTokens, decoder: shape} = this.metadata;
    const eos = specialTokens.eos;
    let promptIds = this.tokenizer.encodeSync(prompt);
    // An empty prompt starts from the end-of-text token, as documents follow one another in training.
    if (promptIds.length === 0) promptIds = [eos ?? specialTokens.bos ?? 0];
    if (promptIds.length >= contextLength) {
      throw new ConfigError(
        `the prompt is ${promptIds.length} tokens; the model reads at most ${contextLength}`,
        'shorten the prompt',
      );
    }
    const rng = new Rng(options.seed ?? 42);
    const stream = new TokenStream(this.tokenizer);
    const decoder = new CachedDecoder(this.model, {...DEFAULT_CAUSAL_LM_CONFIG, ...shape, contextLength});
    const ids: number[] = [];
    let text = '';
    let stoppedBy: Generation['stoppedBy'] = 'max_tokens';
    try {
      let logits = decoder.step(promptIds);
      for (;;) {
        const values = (await logits.data()) as Float32Array;
        logits.dispose();
        const id = sampleToken(values, options, () => rng.next());
        if (id === eos) {
          stoppedBy = 'eos';
          break;
        }
        ids.push(id);
        let next = text + (await stream.push(id));
        const stop = options.stop?.find((s) => s !== '' && next.includes(s));
        if (stop !== undefined) next = next.slice(0, next.indexOf(stop));
        options.onToken?.(next.slice(text.length), id);
        text = next;
        if (stop !== undefined) {
          stoppedBy = 'stop';
          break;
        }
        if (ids.length >= maxTokens) break;
        if (promptIds.length + ids.length >= contextLength) {
          stoppedBy = 'context';
          break;
        }
        logits = decoder.step([id]);
      }
      const rest = stoppedBy === 'stop' ? '' : await stream.flush();
      if (rest) {
        text += rest;
        options.onToken?.(rest, null);
      }
    } finally {
      decoder.dispose();
    }
    return {text, ids, stoppedBy, promptTokens: promptIds.length};
  }

  dispose(): void {
    this.model.dispose();
  }
}
