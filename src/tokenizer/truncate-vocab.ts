import {ConfigError} from '../errors.js';
import {byteChar} from './byte-level.js';
import {mergePair, type TokenizerModelJson} from './tokenizer-json.js';

/**
 * Cutting a trained BPE to size. Hugging Face's BPE trainer adds tokens greedily, one merge at a
 * time, so the first K merges of a long run are exactly what a run asked to stop at K would have
 * learnt: the trained merge list can be cut to any size. The special tokens go to ids 0..n-1, so
 * they are stable across sizes.
 */

export interface TruncatedModel {
  vocab: Record<string, number>;
  merges?: Array<[string, string]>;
  /** Tokens the vocabulary would have held had the training text supported it. */
  shortBy: number;
}

export function vocabTooSmall(vocabSize: number, minimum: number, what: string): ConfigError {
  return new ConfigError(
    `vocabulary size ${vocabSize} is too small: ${what} alone take ${minimum} ids`,
    `use --vocab-size ${minimum} or more`,
  );
}

/**
 * Byte-level BPE of `vocabSize` ids: specials, then the 256 byte characters (id = specials + byte,
 * whether or not the text had that byte, so nothing is ever unknown), then merged tokens in merge
 * order, stopping when the vocabulary is full.
 */
export function truncateByteLevelBpe(
  trained: TokenizerModelJson,
  specials: readonly string[],
  vocabSize: number,
): TruncatedModel {
  const minimum = specials.length + 256;
  if (vocabSize < minimum)
    throw vocabTooSmall(vocabSize, minimum, `${specials.length} special tokens and 256 bytes`);
  const vocab: Record<string, number> = {};
  let size = 0;
  for (const token of specials) vocab[token] = size++;
  for (let b = 0; b < 256; b++) vocab[byteChar(b)] = size++;
  const merges: Array<[string, string]> = [];
  for (const merge of trained.merges ?? []) {
    if (size >= vocabSize) break;
    const [left, right] = mergePair(merge);
    merges.push([left, right]);
    const token = left + right;
    // Two merges can spell the same token ("a"+"bc", "ab"+"c"); the trainer keeps both merges, one id.
    if (!Object.hasOwn(vocab, token)) vocab[token] = size++;
  }
  return {vocab, merges, shortBy: vocabSize - size};
}
