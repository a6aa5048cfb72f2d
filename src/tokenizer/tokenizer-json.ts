/**
 * The parts of Hugging Face's `tokenizer.json` format the kit reads and writes. The format is plain
 * JSON; fields the kit does not know are kept as they are.
 */
export interface AddedTokenJson {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

export interface TokenizerModelJson {
  type: string;
  /** BPE, WordPiece, WordLevel: token → id. Unigram: `[piece, score][]` with ids the indices. */
  vocab?: Record<string, number> | Array<[string, number]>;
  /** BPE merges by rank: `[left, right]` pairs, or `"left right"` strings in older files. */
  merges?: Array<[string, string] | string>;
  [key: string]: unknown;
}

export interface TokenizerJson {
  version?: string;
  added_tokens?: AddedTokenJson[];
  normalizer?: unknown;
  pre_tokenizer?: unknown;
  post_processor?: unknown;
  decoder?: unknown;
  model: TokenizerModelJson;
  [key: string]: unknown;
}

/** `added_tokens` entries for special tokens at the given ids. */
export function specialAddedTokens(tokens: ReadonlyArray<readonly [string, number]>): AddedTokenJson[] {
  return tokens.map(([content, id]) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
}

/** A merge as a pair, whichever way the file spells it. */
export function mergePair(merge: [string, string] | string): [string, string] {
  if (Array.isArray(merge)) return merge;
  const space = merge.indexOf(' ', 1);
  return [merge.slice(0, space), merge.slice(space + 1)];
}
