import {writeFile} from 'node:fs/promises';
import {createRequire} from 'node:module';
import type {Tokenizer as NativeTokenizer} from 'tokenizers';
import {ModelError} from '../errors.js';
import type {SpecialRole, SpecialTokenIds, Tokenizer, TokenizerKind} from './tokenizer.js';
import type {TokenizerJson} from './tokenizer-json.js';

const require = createRequire(import.meta.url);

/** The `tokenizers` package (Hugging Face's Rust tokenizers), loaded on first use. */
export function nativeTokenizers(): typeof import('tokenizers') {
  return require('tokenizers') as typeof import('tokenizers');
}

/** How the special tokens of common tokenizer families are spelled, per role. */
const SPECIAL_SPELLINGS: Record<SpecialRole, readonly string[]> = {
  pad: ['[PAD]', '<pad>', '<|pad|>', '<|padding|>'],
  unk: ['[UNK]', '<unk>', '<|unk|>'],
  bos: ['[BOS]', '<s>', '<|begin_of_text|>', '<|startoftext|>', '<bos>', '<|endoftext|>'],
  eos: ['[EOS]', '</s>', '<|end_of_text|>', '<|endoftext|>', '<eos>'],
  cls: ['[CLS]', '<cls>'],
  sep: ['[SEP]', '<sep>'],
};

/** What the training step recorded, for the CLI to show and for tests. */
export interface TokenizerTrainingReport {
  requestedVocabSize: number;
  vocabSize: number;
  /** Why the vocabulary is smaller than requested: the text ran out of pairs to merge. */
  limitedBy?: 'data';
  seconds: number;
}

/**
 * A tokenizer run by the `tokenizers` package from its `tokenizer.json`: the BPE and WordPiece
 * tokenizers trained here, and any Hugging Face tokenizer a user brings.
 */
export class HfTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly special: Readonly<SpecialTokenIds>;
  private readonly idToTokenMap: Map<number, string>;
  private readonly tokenToIdMap: Map<string, number>;
  /** Set when this tokenizer was trained here. */
  training?: TokenizerTrainingReport;

  private constructor(
    readonly kind: TokenizerKind,
    private readonly json: TokenizerJson,
    private readonly native: NativeTokenizer,
  ) {
    this.tokenToIdMap = new Map(Object.entries(native.getVocab(true)));
    this.idToTokenMap = new Map([...this.tokenToIdMap].map(([t, id]) => [id, t]));
    let maxId = -1;
    for (const id of this.idToTokenMap.keys()) maxId = Math.max(maxId, id);
    this.vocabSize = maxId + 1;
    const specials = (json.added_tokens ?? []).filter((t) => t.special);
    const special: SpecialTokenIds = {};
    for (const [role, spellings] of Object.entries(SPECIAL_SPELLINGS) as [SpecialRole, string[]][]) {
      const hit = spellings.map((s) => specials.find((t) => t.content === s)).find((t) => t !== undefined);
      if (hit) special[role] = hit.id;
    }
    const unk = json.model.unk_token;
    if (special.unk === undefined && typeof unk === 'string') special.unk = this.tokenToIdMap.get(unk);
    this.special = special;
  }

  static fromJSON(json: TokenizerJson, source = 'tokenizer.json', kind?: TokenizerKind): HfTokenizer {
    if (!json || typeof json !== 'object' || typeof json.model !== 'object' || json.model === null) {
      throw new ModelError(
        `${source}: not a tokenizer.json (no "model" object)`,
        'pass a Hugging Face tokenizer.json',
      );
    }
    let native: NativeTokenizer;
    try {
      native = nativeTokenizers().Tokenizer.fromString(JSON.stringify(json));
    } catch (err) {
      throw new ModelError(
        `${source}: the tokenizers library rejects it: ${(err as Error).message.split('\n')[0]}`,
        'pass a tokenizer.json written by Hugging Face tokenizers or deepseek-kit',
      );
    }
    return new HfTokenizer(kind ?? kindOf(json), json, native);
  }

  async encode(text: string): Promise<number[]> {
    const encoding = await this.native.encode(text, null, {addSpecialTokens: false});
    return encoding.getIds();
  }

  async encodeBatch(texts: readonly string[]): Promise<number[][]> {
    if (texts.length === 0) return [];
    const encodings = await this.native.encodeBatch([...texts], {addSpecialTokens: false});
    return encodings.map((e) => e.getIds());
  }

  async decode(ids: readonly number[], options: {skipSpecial?: boolean} = {}): Promise<string> {
    return this.native.decode([...ids], options.skipSpecial ?? true);
  }

  idToToken(id: number): string | undefined {
    return this.idToTokenMap.get(id);
  }

  tokenToId(token: string): number | undefined {
    return this.tokenToIdMap.get(token);
  }

  toJSON(): TokenizerJson {
    return this.json;
  }

  async save(path: string): Promise<void> {
    await writeFile(path, `${JSON.stringify(this.json)}\n`);
  }
}

/** `bpe` for byte-level BPE, `wordpiece` for WordPiece, `hf` for anything else. */
function kindOf(json: TokenizerJson): TokenizerKind {
  const pre = json.pre_tokenizer as {type?: string} | null | undefined;
  if (json.model.type === 'BPE' && pre?.type === 'ByteLevel') return 'bpe';
  if (json.model.type === 'WordPiece') return 'wordpiece';
  return 'hf';
}
