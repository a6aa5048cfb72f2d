import {writeFile} from 'node:fs/promises';
import {byteChar, charByte} from './byte-level.js';
import type {SpecialRole, SpecialTokenIds, Tokenizer} from './tokenizer.js';
import {specialAddedTokens, type TokenizerJson} from './tokenizer-json.js';

/** Special tokens after the 256 bytes: ids 256..260. No `[UNK]`: every byte has an id. */
const BYTE_SPECIALS: ReadonlyArray<readonly [SpecialRole, string]> = [
  ['pad', '[PAD]'],
  ['bos', '[BOS]'],
  ['eos', '[EOS]'],
  ['cls', '[CLS]'],
  ['sep', '[SEP]'],
];

const BYTES = 256;

/**
 * UTF-8 bytes as tokens: id = byte value (0..255), then the special tokens. No training, nothing
 * unseen; for benchmarks, tiny models, and runs that compare tokenizers by bits per byte. It saves
 * as a Hugging Face byte-level BPE with no merges, which encodes to the same ids.
 */
export class ByteTokenizer implements Tokenizer {
  readonly kind = 'byte' as const;
  readonly vocabSize = BYTES + BYTE_SPECIALS.length;
  readonly special: Readonly<SpecialTokenIds> = Object.fromEntries(
    BYTE_SPECIALS.map(([role], i) => [role, BYTES + i]),
  );
  private readonly encoder = new TextEncoder();

  static fromJSON(_json: TokenizerJson): ByteTokenizer {
    return new ByteTokenizer();
  }

  /** Synchronous: bytes need no native call. */
  encodeSync(text: string): number[] {
    return Array.from(this.encoder.encode(text));
  }

  async encode(text: string): Promise<number[]> {
    return this.encodeSync(text);
  }

  async encodeBatch(texts: readonly string[]): Promise<number[][]> {
    return texts.map((t) => this.encodeSync(t));
  }

  /** Invalid UTF-8 (a sequence cut mid-character) decodes to U+FFFD, as `TextDecoder` does. */
  decodeSync(ids: readonly number[], options: {skipSpecial?: boolean} = {}): string {
    const skip = options.skipSpecial ?? true;
    let out = '';
    let bytes: number[] = [];
    const flush = () => {
      if (bytes.length > 0) out += new TextDecoder().decode(Uint8Array.from(bytes));
      bytes = [];
    };
    for (const id of ids) {
      if (id >= 0 && id < BYTES) {
        bytes.push(id);
      } else {
        flush();
        if (!skip) out += this.idToToken(id) ?? '';
      }
    }
    flush();
    return out;
  }

  async decode(ids: readonly number[], options: {skipSpecial?: boolean} = {}): Promise<string> {
    return this.decodeSync(ids, options);
  }

  idToToken(id: number): string | undefined {
    if (!Number.isInteger(id) || id < 0) return undefined;
    if (id < BYTES) return byteChar(id);
    return BYTE_SPECIALS[id - BYTES]?.[1];
  }

  tokenToId(token: string): number | undefined {
    const special = BYTE_SPECIALS.findIndex(([, t]) => t === token);
    if (special >= 0) return BYTES + special;
    return charByte(token);
  }

  toJSON(): TokenizerJson {
    const vocab: Record<string, number> = {};
    for (let b = 0; b < BYTES; b++) vocab[byteChar(b)] = b;
    for (const [i, [, token]] of BYTE_SPECIALS.entries()) vocab[token] = BYTES + i;
    return {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: specialAddedTokens(BYTE_SPECIALS.map(([, token], i) => [token, BYTES + i])),
      normalizer: null,
      pre_tokenizer: {type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false},
      post_processor: null,
      decoder: {type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false},
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: false,
        byte_fallback: false,
        ignore_merges: false,
        vocab,
        merges: [],
      },
    };
  }

  async save(path: string): Promise<void> {
    await writeFile(path, `${JSON.stringify(this.toJSON())}\n`);
  }
}

/** True for the `tokenizer.json` a `ByteTokenizer` writes: byte-level BPE, no merges, byte b at id b. */
export function isByteTokenizerJson(json: TokenizerJson): boolean {
  const {model} = json;
  if (
    model?.type !== 'BPE' ||
    (model.merges?.length ?? 0) > 0 ||
    Array.isArray(model.vocab) ||
    !model.vocab
  ) {
    return false;
  }
  const vocab = model.vocab;
  if (Object.keys(vocab).length !== BYTES + BYTE_SPECIALS.length) return false;
  for (let b = 0; b < BYTES; b++) if (vocab[byteChar(b)] !== b) return false;
  return BYTE_SPECIALS.every(([, token], i) => vocab[token] === BYTES + i);
}
