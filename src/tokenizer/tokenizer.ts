import {readFile} from 'node:fs/promises';
import {ModelError} from '../errors.js';
import {ByteTokenizer, isByteTokenizerJson} from './byte-tokenizer.js';
import {HfTokenizer} from './hf-tokenizer.js';
import type {TokenizerJson} from './tokenizer-json.js';

/** What a tokenizer is: `bpe` and `wordpiece` are trained here, `byte` is raw UTF-8 bytes, `hf` any loaded file. */
export type TokenizerKind = 'bpe' | 'wordpiece' | 'byte' | 'hf';

/** The roles special tokens play; a model asks for the ids it needs (`special.pad`, `special.cls`…). */
export type SpecialRole = 'pad' | 'unk' | 'bos' | 'eos' | 'cls' | 'sep';

export type SpecialTokenIds = Partial<Record<SpecialRole, number>>;

/**
 * The special tokens of every tokenizer trained here, in id order: they take ids 0..5 whatever the
 * vocabulary size, so a model's padding and separator ids never move between runs.
 */
export const TRAINED_SPECIAL_TOKENS: ReadonlyArray<readonly [SpecialRole, string]> = [
  ['pad', '[PAD]'],
  ['unk', '[UNK]'],
  ['bos', '[BOS]'],
  ['eos', '[EOS]'],
  ['cls', '[CLS]'],
  ['sep', '[SEP]'],
];

/**
 * Text ↔ token ids. `encode` never adds special tokens (models add the `[CLS]`/`[BOS]` they need from
 * `special`), and `decode` drops them unless asked. Every tokenizer saves as a Hugging Face
 * `tokenizer.json`, so other tools load what the kit trained.
 */
export interface Tokenizer {
  readonly kind: TokenizerKind;
  /** Size of the id space: the embedding table needs this many rows (max id + 1). */
  readonly vocabSize: number;
  readonly special: Readonly<SpecialTokenIds>;
  encode(text: string): Promise<number[]>;
  encodeBatch(texts: readonly string[]): Promise<number[][]>;
  decode(ids: readonly number[], options?: {skipSpecial?: boolean}): Promise<string>;
  idToToken(id: number): string | undefined;
  tokenToId(token: string): number | undefined;
  /** The Hugging Face `tokenizer.json` content. */
  toJSON(): TokenizerJson;
  /** Writes `tokenizer.json` content to `path`. */
  save(path: string): Promise<void>;
}

/** A tokenizer from its `tokenizer.json` content; `source` names the file in errors. */
export function tokenizerFromJSON(json: TokenizerJson, source = 'tokenizer.json'): Tokenizer {
  if (isByteTokenizerJson(json)) return ByteTokenizer.fromJSON(json);
  return HfTokenizer.fromJSON(json, source);
}

/** Loads a Hugging Face `tokenizer.json` (one the kit saved, or any other, e.g. `--tokenizer FILE`). */
export async function loadTokenizer(path: string): Promise<Tokenizer> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ModelError(
      `cannot read tokenizer ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      'pass the tokenizer.json of a Hugging Face tokenizer or of a deepseek-kit run',
    );
  }
  let json: TokenizerJson;
  try {
    json = JSON.parse(text) as TokenizerJson;
  } catch (err) {
    throw new ModelError(`${path} is not JSON: ${(err as Error).message}`, 'pass a tokenizer.json file');
  }
  return tokenizerFromJSON(json, path);
}
