import * as tf from '@tensorflow/tfjs';
import {Rng} from '../data/rng.js';
import {ConfigError, ModelError} from '../errors.js';
import {CachedDecoder} from '../models/causal-lm/cached-decoder.js';
import type {LanguageModelRun} from '../models/causal-lm/causal-lm-run.js';
import {checkSampling, type SamplingOptions, sampleToken} from '../models/causal-lm/sampling.js';
import {openRun} from '../models/registry.js';
import {TokenStream} from '../tokenizer/token-stream.js';

export interface GenerateOptions extends SamplingOptions {
  /** New tokens at most. Default 128. */
  maxTokens?: number;
  /** Seed of the sampler: same seed, same text. Default 42. */
  seed?: number;
  /** Stop when the text ends with one of these (it is left out of the result). */
  stop?: readonly string[];
  /** Decode with the KV cache (default), or re-run the whole sequence for every token. */
  useCache?: boolean;
  /** Each piece of text as it is decoded. */
  onText?: (text: string) => void;
}

export interface GenerateResult {
  prompt: string;
  text: string;
  /** New token ids. */
  ids: number[];
  tokens: number;
  /** `max_tokens`, `stop` (a stop string), `eos` (end-of-text token), `context` (the model's length is full). */
  stopped_by: 'max_tokens' | 'stop' | 'eos' | 'context';
  seconds: number;
  /** Generated tokens per second, prompt processing excluded. */
  tokens_per_s: number;
  prompt_tokens: number;
}

/** Continues `prompt` with a language-model run (a folder or a loaded run). */
export async function generate(
  model: string | LanguageModelRun,
  prompt: string,
  options: GenerateOptions = {},
): Promise<GenerateResult> {
  checkSampling(options);
  const maxTokens = options.maxTokens ?? 128;
  if (!(Number.isInteger(maxTokens) && maxTokens >= 1)) {
    throw new ConfigError(`max tokens must be a whole number ≥ 1, got ${maxTokens}`);
  }
  const run = typeof model === 'string' ? await openLanguageModel(model) : model;
  try {
    return await generateWith(run, prompt, maxTokens, options);
  } finally {
    if (typeof model === 'string') run.model.dispose();
  }
}

/** The run folder `dir`, which must hold a language model. */
async function openLanguageModel(dir: string): Promise<LanguageModelRun> {
  const {kind, run} = await openRun(dir);
  if (!kind.decoder) {
    run.model.dispose();
    throw new ModelError(
      `${dir} is a "${kind.task}" run, not a language model`,
      'generate continues text with --task lm runs',
    );
  }
  return run as LanguageModelRun;
}

async function generateWith(
  run: LanguageModelRun,
  prompt: string,
  maxTokens: number,
  options: GenerateOptions,
): Promise<GenerateResult> {
  const {tokenizer, config} = run;
  const eos = tokenizer.special.eos;
  const bos = tokenizer.special.bos;
  let promptIds = await tokenizer.encode(prompt);
  // An empty prompt starts from the end-of-text token, as documents follow one another in training.
  if (promptIds.length === 0) promptIds = [eos ?? bos ?? 0];
  if (promptIds.length >= config.contextLength) {
    throw new ConfigError(
      `the prompt is ${promptIds.length} tokens; the model reads at most ${config.contextLength}`,
      'shorten the prompt',
    );
  }
  const rng = new Rng(options.seed ?? 42);
  const stream = new TokenStream(tokenizer);
  const useCache = options.useCache ?? true;
  const decoder = useCache ? new CachedDecoder(run.model, config) : undefined;
  const ids: number[] = [];
  let text = '';
  let stoppedBy: GenerateResult['stopped_by'] = 'max_tokens';
  let started = 0;
  try {
    let logits = decoder ? decoder.step(promptIds) : lastLogits(run, promptIds);
    started = performance.now();
    for (;;) {
      const values = (await logits.data()) as Float32Array;
      logits.dispose();
      const id = sampleToken(values, options, () => rng.next());
      if (id === eos) {
        stoppedBy = 'eos';
        break;
      }
      ids.push(id);
      const piece = await stream.push(id);
      text += piece;
      const stop = options.stop?.find((s) => s !== '' && text.includes(s));
      if (stop !== undefined) {
        text = text.slice(0, text.indexOf(stop));
        stoppedBy = 'stop';
        break;
      }
      if (piece) options.onText?.(piece);
      if (ids.length >= maxTokens) break;
      if (promptIds.length + ids.length >= config.contextLength) {
        stoppedBy = 'context';
        break;
      }
      logits = decoder ? decoder.step([id]) : lastLogits(run, [...promptIds, ...ids]);
    }
    if (stoppedBy !== 'stop') {
      const rest = await stream.flush();
      text += rest;
      if (rest) options.onText?.(rest);
    }
  } finally {
    decoder?.dispose();
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    prompt,
    text,
    ids,
    tokens: ids.length,
    stopped_by: stoppedBy,
    seconds,
    tokens_per_s: ids.length / Math.max(seconds, 1e-9),
    prompt_tokens: promptIds.length,
  };
}

/** Logits after the last of `ids`, from a full forward pass (the uncached path). */
function lastLogits(run: LanguageModelRun, ids: readonly number[]): tf.Tensor1D {
  return tf.tidy(() => {
    const logits = run.model.predict(tf.tensor2d([...ids], [1, ids.length], 'int32')) as tf.Tensor3D;
    return tf.reshape(tf.slice(logits, [0, ids.length - 1, 0], [1, 1, -1]), [-1]) as tf.Tensor1D;
  });
}
