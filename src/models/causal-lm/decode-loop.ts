import type * as tf from '@tensorflow/tfjs';
import {Rng} from '../../data/rng.js';
import {ConfigError} from '../../errors.js';
import type {TokenStream} from '../../tokenizer/token-stream.js';
import type {SpecialTokenIds} from '../../tokenizer/tokenizer.js';
import {checkSampling, type SamplingOptions, sampleToken} from './sampling.js';

/**
 * The one decode loop of the kit: `deepseek-kit generate` (Node, src/workflows/generate.ts) and the
 * browser runtime's `generate` (src/runtime/language-model.ts) both run it, so a seed gives the same
 * tokens in both. No Node imports: the runtime bundle includes it.
 */
export interface DecodeOptions extends SamplingOptions {
  /** New tokens at most. Default 128. */
  maxTokens?: number;
  /** Seed of the sampler: same seed, same text. Default 42. */
  seed?: number;
  /** Stop when the text holds one of these; the text ends before it. */
  stop?: readonly string[];
}

export interface Decoded {
  text: string;
  /** New token ids (a stop string's tokens included, the end-of-text token not). */
  ids: number[];
  /** `max_tokens`, `stop` (a stop string), `eos` (end-of-text token), `context` (the model's length is full). */
  stoppedBy: 'max_tokens' | 'stop' | 'eos' | 'context';
  /** Milliseconds from the first sampled token on (prompt processing excluded). */
  decodeMs: number;
}

export interface DecodeSteps {
  /** The prompt's ids as the model reads them (promptIds gives them). */
  promptIds: readonly number[];
  contextLength: number;
  eos?: number;
  /** Logits [vocab] after `ids`: first the whole prompt, then each sampled token, in order. */
  step(ids: readonly number[]): tf.Tensor1D;
  /** Detokenizes the sampled ids as they come. */
  stream: TokenStream;
  /**
   * Each new token with the text it completes: '' while a character is still cut across tokens or
   * the text may be the start of a stop string (held back until the next tokens tell), nothing past
   * a stop string; at the end, with id null, what was held back (a cut character as U+FFFD). The
   * pieces joined are the result's text.
   */
  onToken?: (text: string, id: number | null) => void;
}

/** Checks the options before any work: sampling ranges and a whole `maxTokens` ≥ 1. */
export function checkDecodeOptions(options: DecodeOptions): void {
  checkSampling(options);
  const maxTokens = options.maxTokens ?? 128;
  if (!(Number.isInteger(maxTokens) && maxTokens >= 1)) {
    throw new ConfigError(`max tokens must be a whole number ≥ 1, got ${maxTokens}`);
  }
}

/**
 * The ids a prompt starts decoding from: an empty prompt starts from the end-of-text token (as
 * documents follow one another in training); a prompt that fills the context is a ConfigError.
 */
export function promptIds(encoded: number[], special: SpecialTokenIds, contextLength: number): number[] {
  const ids = encoded.length === 0 ? [special.eos ?? special.bos ?? 0] : encoded;
  if (ids.length >= contextLength) {
    throw new ConfigError(
      `the prompt is ${ids.length} tokens; the model reads at most ${contextLength}`,
      'shorten the prompt',
    );
  }
  return ids;
}

/** Samples tokens one by one until `maxTokens`, a stop string, the end-of-text token or a full context. */
export async function decodeTokens(steps: DecodeSteps, options: DecodeOptions): Promise<Decoded> {
  const maxTokens = options.maxTokens ?? 128;
  const {promptIds, contextLength, eos, stream, onToken} = steps;
  const rng = new Rng(options.seed ?? 42);
  const ids: number[] = [];
  let text = '';
  // Characters of `text` streamed so far: text that may be the start of a stop string is held back
  // until the next tokens show it is not, so a stop string across tokens is never streamed.
  let streamed = 0;
  let stoppedBy: Decoded['stoppedBy'] = 'max_tokens';
  let logits = steps.step(promptIds);
  const started = performance.now();
  for (;;) {
    const values = (await logits.data()) as Float32Array;
    logits.dispose();
    const id = sampleToken(values, options, () => rng.next());
    if (id === eos) {
      stoppedBy = 'eos';
      break;
    }
    ids.push(id);
    text += await stream.push(id);
    const at = firstStop(text, options.stop);
    if (at !== undefined) text = text.slice(0, at);
    const safe = at ?? text.length - heldBack(text, options.stop);
    onToken?.(text.slice(streamed, safe), id);
    streamed = safe;
    if (at !== undefined) {
      stoppedBy = 'stop';
      break;
    }
    if (ids.length >= maxTokens) break;
    if (promptIds.length + ids.length >= contextLength) {
      stoppedBy = 'context';
      break;
    }
    logits = steps.step([id]);
  }
  if (stoppedBy !== 'stop') text += await stream.flush();
  if (text.length > streamed) onToken?.(text.slice(streamed), null);
  return {text, ids, stoppedBy, decodeMs: performance.now() - started};
}

/** Where the first stop string starts in `text` (the earliest of them), or undefined. */
function firstStop(text: string, stop: readonly string[] = []): number | undefined {
  let first: number | undefined;
  for (const s of stop) {
    const at = s === '' ? -1 : text.indexOf(s);
    if (at >= 0 && (first === undefined || at < first)) first = at;
  }
  return first;
}

/** Length of the longest end of `text` that begins a stop string (it may yet become one). */
function heldBack(text: string, stop: readonly string[] = []): number {
  let longest = 0;
  for (const s of stop) {
    for (let n = Math.min(s.length - 1, text.length); n > longest; n--) {
      if (text.endsWith(s.slice(0, n))) {
        longest = n;
        break;
      }
    }
  }
  return longest;
}
