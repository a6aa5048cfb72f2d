import * as tf from '@tensorflow/tfjs';
import {ModelError} from '../errors.js';
import {CachedDecoder} from '../models/causal-lm/cached-decoder.js';
import type {LanguageModelRun} from '../models/causal-lm/causal-lm-run.js';
import {
  checkDecodeOptions,
  type Decoded,
  type DecodeOptions,
  decodeTokens,
  promptIds,
} from '../models/causal-lm/decode-loop.js';
import {openRun} from '../models/registry.js';
import {TokenStream} from '../tokenizer/token-stream.js';

/** Sampling, `maxTokens`, `seed` and `stop` (decode-loop.ts, shared with the browser runtime). */
export interface GenerateOptions extends DecodeOptions {
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
  checkDecodeOptions(options);
  const run = typeof model === 'string' ? await openLanguageModel(model) : model;
  try {
    return await generateWith(run, prompt, options);
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
  options: GenerateOptions,
): Promise<GenerateResult> {
  const {tokenizer, config} = run;
  const ids = promptIds(await tokenizer.encode(prompt), tokenizer.special, config.contextLength);
  const decoder = (options.useCache ?? true) ? new CachedDecoder(run.model, config) : undefined;
  // Uncached: the whole sequence so far through the model for every token.
  const sequence: number[] = [];
  const step = (next: readonly number[]) => {
    if (decoder) return decoder.step(next);
    sequence.push(...next);
    return lastLogits(run, sequence);
  };
  let decoded: Decoded;
  try {
    decoded = await decodeTokens(
      {
        promptIds: ids,
        contextLength: config.contextLength,
        eos: tokenizer.special.eos,
        step,
        stream: new TokenStream(tokenizer),
        onToken: options.onText && ((text) => text && options.onText!(text)),
      },
      options,
    );
  } finally {
    decoder?.dispose();
  }
  const seconds = decoded.decodeMs / 1000;
  return {
    prompt,
    text: decoded.text,
    ids: decoded.ids,
    tokens: decoded.ids.length,
    stopped_by: decoded.stoppedBy,
    seconds,
    tokens_per_s: decoded.ids.length / Math.max(seconds, 1e-9),
    prompt_tokens: ids.length,
  };
}

/** Logits after the last of `ids`, from a full forward pass (the uncached path). */
function lastLogits(run: LanguageModelRun, ids: readonly number[]): tf.Tensor1D {
  return tf.tidy(() => {
    const logits = run.model.predict(tf.tensor2d([...ids], [1, ids.length], 'int32')) as tf.Tensor3D;
    return tf.reshape(tf.slice(logits, [0, ids.length - 1, 0], [1, 1, -1]), [-1]) as tf.Tensor1D;
  });
}
