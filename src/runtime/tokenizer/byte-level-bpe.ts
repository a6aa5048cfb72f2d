import {byteChar, charByte} from '../../tokenizer/byte-level.js';
import {charClass} from './char-class.js';
import {NOT_WORD} from './unicode-tables.js';

/**
 * Byte-level BPE as Hugging Face tokenizers runs it (pre_tokenizers/byte_level.rs, models/bpe):
 * GPT-2's split into words, each word's UTF-8 bytes as byte-level characters, then the merges by
 * rank. Decoding maps the characters back to bytes and reads them as UTF-8.
 */

// GPT-2's pattern (openai/gpt-2 encoder.py) as byte_level.rs compiles it with Oniguruma, whose \s is
// \t \n \v \f \r, U+0085 and the Z* separators (JavaScript's has U+FEFF, not U+0085), and whose
// letters and digits are an older Unicode's (NOT_WORD: the newer ones, which it takes for symbols).
const SPACE = '\\t\\n\\v\\f\\r\\x85\\p{Zs}\\p{Zl}\\p{Zp}';
const NEWER = charClass(NOT_WORD);
const gpt2Pattern = (letter: string, digit: string, symbol: string) =>
  new RegExp(
    `'s|'t|'re|'ve|'m|'ll|'d| ?${letter}+| ?${digit}+| ?${symbol}+|[${SPACE}]+(?![^${SPACE}])|[${SPACE}]+`,
    'gu',
  );
const GPT2 = gpt2Pattern('\\p{L}', '\\p{N}', `[^${SPACE}\\p{L}\\p{N}]`);
// The same with the newer letters and digits as symbols: several times slower, so only for text that has one.
const GPT2_NEWER = gpt2Pattern(
  `(?:(?!${NEWER})\\p{L})`,
  `(?:(?!${NEWER})\\p{N})`,
  `(?:${NEWER}|[^${SPACE}\\p{L}\\p{N}])`,
);
const HAS_NEWER = new RegExp(NEWER, 'u');

const encoder = new TextEncoder();

/** The words of `text` as the ByteLevel pre-tokenizer gives them, in byte-level characters. */
export function byteLevelWords(
  text: string,
  options: {addPrefixSpace: boolean; useRegex: boolean},
): string[] {
  let s = text;
  if (options.addPrefixSpace && !s.startsWith(' ')) s = ` ${s}`;
  const pattern = HAS_NEWER.test(s) ? GPT2_NEWER : GPT2;
  const words = options.useRegex ? (s.match(pattern) ?? []) : s === '' ? [] : [s];
  return words.map(toByteChars);
}

const BYTE_CHARS = Array.from({length: 256}, (_, b) => byteChar(b));
const ASCII = /^[\0-\x7f]*$/;

/** A word's UTF-8 bytes as byte-level characters (ASCII without a TextEncoder call: 5x faster). */
function toByteChars(word: string): string {
  let out = '';
  if (ASCII.test(word)) for (let i = 0; i < word.length; i++) out += BYTE_CHARS[word.charCodeAt(i)];
  else for (const b of encoder.encode(word)) out += BYTE_CHARS[b];
  return out;
}

/** Byte-level tokens back to text; bytes that are not UTF-8 become U+FFFD, as Rust's from_utf8_lossy. */
export function decodeByteLevel(tokens: readonly string[]): string {
  const bytes: number[] = [];
  for (const token of tokens) {
    const mapped = [...token].map(charByte);
    // A token with a character outside the byte alphabet (an added token like [PAD]) is its own UTF-8.
    if (mapped.every((b) => b !== undefined)) bytes.push(...(mapped as number[]));
    else bytes.push(...encoder.encode(token));
  }
  // ignoreBOM keeps a leading U+FEFF, which from_utf8_lossy keeps and TextDecoder would drop.
  return new TextDecoder('utf-8', {ignoreBOM: true}).decode(Uint8Array.from(bytes));
}

/**
 * The BPE model: a word (vocabulary symbols, here byte-level characters) → token ids, merging the
 * adjacent pair of lowest rank first (leftmost on ties) until no pair has a merge.
 */
export class BpeModel {
  private readonly ranks = new Map<string, {rank: number; id: number}>();
  private readonly cache = new Map<string, number[]>();

  constructor(
    private readonly vocab: ReadonlyMap<string, number>,
    merges: ReadonlyArray<readonly [string, string]>,
    private readonly unkId: number | undefined,
  ) {
    merges.forEach(([a, b], rank) => {
      const key = pairKey(a, b);
      const id = vocab.get(a + b);
      if (id === undefined)
        throw new Error(`BPE merge "${a} ${b}" makes "${a + b}", which is not in the vocabulary`);
      // A later merge spelling the same pair never applies; the first rank wins, as in the Rust map.
      if (!this.ranks.has(key)) this.ranks.set(key, {rank, id});
    });
  }

  tokenize(word: string): number[] {
    if (word === '') return [];
    const hit = this.cache.get(word);
    if (hit) return hit;
    const ids = this.merge(word);
    if (this.cache.size < 10_000) this.cache.set(word, ids);
    return ids;
  }

  private merge(word: string): number[] {
    // Symbols as a linked list of [token, id]; unknown characters become the unk token (or vanish).
    const tokens: string[] = [];
    const ids: number[] = [];
    for (const ch of word) {
      const id = this.vocab.get(ch);
      if (id !== undefined) {
        tokens.push(ch);
        ids.push(id);
      } else if (this.unkId !== undefined) {
        tokens.push('\u0000unk');
        ids.push(this.unkId);
      }
    }
    const next = tokens.map((_, i) => i + 1);
    const prev = tokens.map((_, i) => i - 1);
    const alive = tokens.map(() => true);
    const heap = new MergeHeap();
    const consider = (i: number) => {
      const j = next[i]!;
      if (j >= tokens.length) return;
      const merge = this.ranks.get(pairKey(tokens[i]!, tokens[j]!));
      if (merge) heap.push({rank: merge.rank, pos: i, id: merge.id, left: tokens[i]!, right: tokens[j]!});
    };
    for (let i = 0; i < tokens.length - 1; i++) consider(i);
    for (let top = heap.pop(); top; top = heap.pop()) {
      const i = top.pos;
      const j = next[i]!;
      // Stale entries: a side was merged away or changed since this pair was queued.
      if (!alive[i] || j >= tokens.length || tokens[i] !== top.left || tokens[j] !== top.right) continue;
      tokens[i] = top.left + top.right;
      ids[i] = top.id;
      alive[j] = false;
      next[i] = next[j]!;
      if (next[i]! < tokens.length) prev[next[i]!] = i;
      if (prev[i]! >= 0) consider(prev[i]!);
      consider(i);
    }
    return ids.filter((_, i) => alive[i]);
  }
}

const pairKey = (a: string, b: string) => `${a}\u0000${b}`;

interface Merge {
  rank: number;
  pos: number;
  id: number;
  left: string;
  right: string;
}

/** Min-heap of merges by rank, then position. */
class MergeHeap {
  private readonly items: Merge[] = [];

  private before(a: Merge, b: Merge): boolean {
    return a.rank < b.rank || (a.rank === b.rank && a.pos < b.pos);
  }

  push(item: Merge): void {
    const h = this.items;
    h.push(item);
    for (let i = h.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!this.before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  pop(): Merge | undefined {
    const h = this.items;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      for (let i = 0; ; ) {
        const [l, r] = [2 * i + 1, 2 * i + 2];
        let m = i;
        if (l < h.length && this.before(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
