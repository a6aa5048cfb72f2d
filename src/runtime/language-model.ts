import type * as tf from '@tensorflow/tfjs';
import {CachedDecoder} from '../models/causal-lm/cached-decoder.js';
import {DEFAULT_CAUSAL_LM_CONFIG} from '../models/causal-lm/causal-lm.js';
import {
  checkDecodeOptions,
  type Decoded,
  type DecodeOptions,
  type DecodeSteps,
  decodeTokens,
  promptIds,
} from '../models/causal-lm/decode-loop.js';
import {TokenStream} from '../tokenizer/token-stream.js';
import type {CausalLMMetadata} from './metadata.js';
import type {RuntimeTokenizer} from './tokenizer.js';

/** Sampling, `maxTokens`, `seed` and `stop` as `deepseek-kit generate` takes them (decode-loop.ts). */
export interface GenerationOptions extends DecodeOptions {
  /** Each new token with the text it completes, as decode-loop.ts says; the pieces joined are the text. */
  onToken?: DecodeSteps['onToken'];
}

export interface Generation extends Omit<Decoded, 'decodeMs'> {
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
    checkDecodeOptions(options);
    const {contextLength, specialTokens, decoder: shape} = this.metadata;
    const ids = promptIds(this.tokenizer.encodeSync(prompt), specialTokens, contextLength);
    const decoder = new CachedDecoder(this.model, {...DEFAULT_CAUSAL_LM_CONFIG, ...shape, contextLength});
    try {
      const decoded = await decodeTokens(
        {
          promptIds: ids,
          contextLength,
          eos: specialTokens.eos,
          step: (next) => decoder.step(next),
          stream: new TokenStream(this.tokenizer),
          onToken: options.onToken,
        },
        options,
      );
      return {text: decoded.text, ids: decoded.ids, stoppedBy: decoded.stoppedBy, promptTokens: ids.length};
    } finally {
      decoder.dispose();
    }
  }

  dispose(): void {
    this.model.dispose();
  }
}
