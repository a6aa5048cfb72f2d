import {ModelError} from '../errors.js';
import type {SpecialTokenIds, Tokenizer, TokenizerKind} from '../tokenizer/tokenizer.js';
import {mergePair, type TokenizerJson} from '../tokenizer/tokenizer-json.js';
import {AddedTokenSplitter, type Piece} from './tokenizer/added-tokens.js';
import {type BertNormalizerOptions, bertNormalize, bertPreTokenize} from './tokenizer/bert-text.js';
import {BpeModel, byteLevelWords, decodeByteLevel} from './tokenizer/byte-level-bpe.js';
import {decodeWordPiece, WordPieceModel} from './tokenizer/wordpiece.js';

/** How a tokenizer.json turns text into ids and back, put together from its components. */
interface Pipeline {
  normalize: (text: string) => string;
  words: (text: string) => string[];
  model: (word: string) => number[];
  decode: (tokens: string[]) => string;
}

/**
 * A tokenizer in plain JavaScript, for the browser: the same ids as the kit's Node tokenizer (the
 * `tokenizers` binding, or the byte tokenizer) for what the kit trains — WordPiece with BERT's
 * normalizer and pre-tokenizer, byte-level BPE, raw bytes — and for Hugging Face tokenizer.json
 * files built from those components. Anything else is refused by name rather than tokenized
 * differently. Like the kit's, `encode` adds no special tokens and `decode` skips them by default.
 */
export class RuntimeTokenizer implements Tokenizer {
  readonly vocabSize: number;
  private readonly tokenOf = new Map<number, string>();
  private readonly idOf = new Map<string, number>();
  private readonly specialIds = new Set<number>();

  private constructor(
    readonly kind: TokenizerKind,
    readonly special: Readonly<SpecialTokenIds>,
    private readonly json: TokenizerJson,
    private readonly pipeline: Pipeline | null,
    private readonly raw: AddedTokenSplitter,
    private readonly normalized: AddedTokenSplitter,
  ) {
    const vocab = json.model.vocab ?? {};
    if (Array.isArray(vocab)) throw unsupported('a Unigram vocabulary');
    for (const [token, id] of Object.entries(vocab)) this.add(token, id);
    for (const t of json.added_tokens ?? []) {
      this.add(t.content, t.id);
      if (t.special) this.specialIds.add(t.id);
    }
    let maxId = -1;
    for (const id of this.tokenOf.keys()) maxId = Math.max(maxId, id);
    this.vocabSize = maxId + 1;
  }

  private add(token: string, id: number): void {
    this.tokenOf.set(id, token);
    this.idOf.set(token, id);
  }

  /**
   * The tokenizer of a `tokenizer.json`. `kind` is the kit's (`byte` is raw UTF-8 bytes, whatever
   * the file's BPE says); `special` the ids of its special tokens by role.
   */
  static fromJSON(
    json: TokenizerJson,
    options: {kind: TokenizerKind; special?: SpecialTokenIds},
  ): RuntimeTokenizer {
    if (!json || typeof json.model !== 'object' || json.model === null) {
      throw new ModelError('not a tokenizer.json (no "model" object)', 'pass a Hugging Face tokenizer.json');
    }
    for (const field of ['truncation', 'padding'] as const) {
      if (json[field] !== null && json[field] !== undefined) throw unsupported(`"${field}" settings`);
    }
    const added = json.added_tokens ?? [];
    for (const t of added) {
      if (t.lstrip || t.rstrip || t.single_word)
        throw unsupported(`added token ${t.content} with lstrip/rstrip/single_word`);
    }
    const pipeline = options.kind === 'byte' ? null : buildPipeline(json);
    return new RuntimeTokenizer(
      options.kind,
      options.special ?? {},
      json,
      pipeline,
      new AddedTokenSplitter(added.filter((t) => !t.normalized || !json.normalizer)),
      new AddedTokenSplitter(added.filter((t) => t.normalized && json.normalizer)),
    );
  }

  /** Token ids of `text`, no special tokens added. */
  encodeSync(text: string): number[] {
    if (!this.pipeline) return Array.from(new TextEncoder().encode(text));
    // A lone surrogate reaches the native tokenizer as U+FFFD (as TextEncoder would make it).
    text = text.replace(LONE_SURROGATE, '\ufffd');
    const {normalize, words, model} = this.pipeline;
    const ids: number[] = [];
    const emit = (pieces: Piece[], then: (text: string) => void) => {
      for (const piece of pieces) {
        if (typeof piece === 'number') ids.push(piece);
        else then(piece);
      }
    };
    emit(this.raw.split(text), (part) =>
      emit(this.normalized.split(normalize(part)), (norm) => {
        for (const word of words(norm)) ids.push(...model(word));
      }),
    );
    return ids;
  }

  /** Text of `ids`; special tokens are left out unless `skipSpecial` is false. */
  decodeSync(ids: readonly number[], options: {skipSpecial?: boolean} = {}): string {
    const skip = options.skipSpecial ?? true;
    if (!this.pipeline) return this.decodeBytes(ids, skip);
    const tokens: string[] = [];
    for (const id of ids) {
      const token = this.tokenOf.get(id);
      if (token !== undefined && !(skip && this.specialIds.has(id))) tokens.push(token);
    }
    return this.pipeline.decode(tokens);
  }

  /** The byte tokenizer's decoding: each run of bytes between special tokens read as UTF-8 on its own, as the kit's ByteTokenizer does. */
  private decodeBytes(ids: readonly number[], skip: boolean): string {
    const pieces: Array<number[] | string> = [];
    for (const id of ids) {
      const last = pieces.at(-1);
      if (id < 0 || id >= 256) pieces.push(skip ? '' : (this.tokenOf.get(id) ?? ''));
      else if (Array.isArray(last)) last.push(id);
      else pieces.push([id]);
    }
    const utf8 = new TextDecoder();
    return pieces.map((p) => (typeof p === 'string' ? p : utf8.decode(Uint8Array.from(p)))).join('');
  }

  async encode(text: string): Promise<number[]> {
    return this.encodeSync(text);
  }

  async encodeBatch(texts: readonly string[]): Promise<number[][]> {
    return texts.map((t) => this.encodeSync(t));
  }

  async decode(ids: readonly number[], options: {skipSpecial?: boolean} = {}): Promise<string> {
    return this.decodeSync(ids, options);
  }

  idToToken(id: number): string | undefined {
    return this.tokenOf.get(id);
  }

  tokenToId(token: string): number | undefined {
    return this.idOf.get(token);
  }

  toJSON(): TokenizerJson {
    return this.json;
  }

  /** The runtime does not write files; save `toJSON()` where you need it. */
  async save(path: string): Promise<void> {
    throw new ModelError(`cannot save ${path}: the browser runtime's tokenizer does not write files`);
  }
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function unsupported(what: string): ModelError {
  return new ModelError(
    `the runtime tokenizer does not support ${what}`,
    'it reads the tokenizers deepseek-kit trains (WordPiece with BERT normalization, byte-level BPE, bytes)',
  );
}

interface Component {
  type?: string;
  [key: string]: unknown;
}

function buildPipeline(json: TokenizerJson): Pipeline {
  const normalizer = json.normalizer as Component | null | undefined;
  const pre = json.pre_tokenizer as Component | null | undefined;
  const decoder = json.decoder as Component | null | undefined;
  const model = json.model;
  const vocab = new Map(Object.entries((model.vocab ?? {}) as Record<string, number>));

  let normalize = (text: string) => text;
  if (normalizer) {
    if (normalizer.type !== 'BertNormalizer') throw unsupported(`the ${normalizer.type} normalizer`);
    const options: BertNormalizerOptions = {
      cleanText: normalizer.clean_text !== false,
      handleChineseChars: normalizer.handle_chinese_chars !== false,
      stripAccents: (normalizer.strip_accents as boolean | null | undefined) ?? null,
      lowercase: normalizer.lowercase !== false,
    };
    normalize = (text) => bertNormalize(text, options);
  }

  let words = (text: string) => (text === '' ? [] : [text]);
  let decodeTokens = (tokens: string[]) => tokens.join(' ');
  if (pre?.type === 'BertPreTokenizer') words = bertPreTokenize;
  else if (pre?.type === 'ByteLevel') {
    const options = {addPrefixSpace: pre.add_prefix_space === true, useRegex: pre.use_regex !== false};
    words = (text) => byteLevelWords(text, options);
  } else if (pre) throw unsupported(`the ${pre.type} pre-tokenizer`);

  if (decoder?.type === 'ByteLevel') decodeTokens = decodeByteLevel;
  else if (decoder?.type === 'WordPiece') {
    const prefix = (decoder.prefix as string | undefined) ?? '##';
    const cleanup = decoder.cleanup !== false;
    decodeTokens = (tokens) => decodeWordPiece(tokens, prefix, cleanup);
  } else if (decoder) throw unsupported(`the ${decoder.type} decoder`);

  const unk = typeof model.unk_token === 'string' ? vocab.get(model.unk_token) : undefined;
  if (model.type === 'WordPiece') {
    if (unk === undefined) throw unsupported('a WordPiece model without its unk_token in the vocabulary');
    const wordPiece = new WordPieceModel(
      vocab,
      unk,
      (model.continuing_subword_prefix as string | undefined) ?? '##',
      (model.max_input_chars_per_word as number | undefined) ?? 100,
    );
    return {normalize, words, model: (w) => wordPiece.tokenize(w), decode: decodeTokens};
  }
  if (model.type === 'BPE') {
    for (const key of ['dropout', 'continuing_subword_prefix', 'end_of_word_suffix'] as const) {
      if (model[key] !== null && model[key] !== undefined) throw unsupported(`BPE with ${key}`);
    }
    if (model.byte_fallback || model.fuse_unk || model.ignore_merges) {
      throw unsupported('BPE with byte_fallback, fuse_unk or ignore_merges');
    }
    const bpe = new BpeModel(vocab, (model.merges ?? []).map(mergePair), unk);
    return {normalize, words, model: (w) => bpe.tokenize(w), decode: decodeTokens};
  }
  throw unsupported(`the ${model.type} model`);
}
