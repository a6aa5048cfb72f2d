import {fmix32} from './hash64.js';

/**
 * Turns a text into the hashes of its shingles for MinHash: word n-grams (default 5), with each
 * CJK character (Han, Hiragana, Katakana) its own token, so text that is mostly CJK — written
 * without spaces between words — is shingled by character n-grams. Case, punctuation and spacing
 * are ignored. Works on char codes, with no string made per word or shingle; the buffers are
 * reused between calls, so one Shingler serves one stream.
 */
export class Shingler {
  /** Shingle hashes of the last text, valid up to the count `shingle` returned. */
  hashes = new Int32Array(4096);
  private tokens = new Int32Array(4096);

  /** @param n tokens per shingle (5: the common choice for near-dedup, e.g. Gopher, datatrove). */
  constructor(readonly n = 5) {}

  /** Fills `hashes` with the shingle hashes of `text` and returns how many there are. */
  shingle(text: string): number {
    const count = this.tokenize(text);
    const n = this.n;
    if (count === 0) return 0;
    // A text shorter than one shingle is one shingle of all its tokens.
    const shingles = count < n ? 1 : count - n + 1;
    const width = count < n ? count : n;
    if (this.hashes.length < shingles) this.hashes = new Int32Array(grow(this.hashes.length, shingles));
    const tokens = this.tokens;
    const out = this.hashes;
    for (let i = 0; i < shingles; i++) {
      let h = 0x2545f491 ^ width;
      for (let j = 0; j < width; j++) h = Math.imul((h << 5) | (h >>> 27), 0x9e3779b1) ^ tokens[i + j]!;
      out[i] = fmix32(h) | 0;
    }
    return shingles;
  }

  /** Token hashes into `tokens`; returns the number of tokens. */
  private tokenize(text: string): number {
    let count = 0;
    let h = 0;
    let inWord = false;
    const len = text.length;
    for (let i = 0; i < len; i++) {
      let c = text.charCodeAt(i);
      if (c < 128) {
        const cls = ASCII_CLASS[c]!;
        if (cls === 0) {
          if (inWord) {
            count = this.push(count, h);
            inWord = false;
          }
          continue;
        }
        if (cls === 2) c += 32; // upper → lower
      } else {
        const cjk = isCjk(c);
        if (cjk || isSeparator(c)) {
          if (inWord) {
            count = this.push(count, h);
            inWord = false;
          }
          if (!cjk) continue;
          let t = Math.imul(0x811c9dc5 ^ c, 0x01000193);
          // A supplementary-plane ideograph is a surrogate pair: one token.
          if (c >= 0xd800 && c <= 0xdbff && i + 1 < len) t = Math.imul(t ^ text.charCodeAt(++i), 0x01000193);
          count = this.push(count, t);
          continue;
        }
        if (c < LOWER.length) c = LOWER[c]!;
      }
      if (!inWord) {
        h = 0x811c9dc5;
        inWord = true;
      }
      h = Math.imul(h ^ c, 0x01000193);
    }
    if (inWord) count = this.push(count, h);
    return count;
  }

  private push(count: number, h: number): number {
    if (count === this.tokens.length) {
      const bigger = new Int32Array(this.tokens.length * 2);
      bigger.set(this.tokens);
      this.tokens = bigger;
    }
    this.tokens[count] = fmix32(h) | 0;
    return count + 1;
  }
}

function grow(size: number, need: number): number {
  while (size < need) size *= 2;
  return size;
}

// 0: separator (space, punctuation, symbol), 1: word char, 2: upper-case letter.
const ASCII_CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  if (c >= 48 && c <= 57) ASCII_CLASS[c] = 1;
  else if (c >= 97 && c <= 122) ASCII_CLASS[c] = 1;
  else if (c >= 65 && c <= 90) ASCII_CLASS[c] = 2;
}

// Lower-case map for Latin-1, Latin Extended, Greek and Cyrillic (U+0080–U+052F).
const LOWER = new Uint16Array(0x530);
for (let c = 0; c < LOWER.length; c++) {
  const lower = String.fromCharCode(c).toLowerCase();
  LOWER[c] = lower.length === 1 ? lower.charCodeAt(0) : c;
}

/** Han (with extension A, compatibility ideographs and the high surrogates of planes 2–3), Hiragana, Katakana. */
export function isCjk(c: number): boolean {
  return (
    (c >= 0x4e00 && c <= 0x9fff) ||
    (c >= 0x3400 && c <= 0x4dbf) ||
    (c >= 0x3040 && c <= 0x30ff) ||
    (c >= 0x31f0 && c <= 0x31ff) ||
    (c >= 0xf900 && c <= 0xfaff) ||
    (c >= 0xff66 && c <= 0xff9f) ||
    (c >= 0xd840 && c <= 0xd8bf)
  );
}

/** Non-ASCII spaces and punctuation that end a word (General Punctuation, CJK and full-width punctuation, Latin-1 marks). */
function isSeparator(c: number): boolean {
  return (
    (c >= 0x2000 && c <= 0x206f) ||
    (c >= 0x3000 && c <= 0x303f) ||
    (c >= 0xff01 && c <= 0xff0f) ||
    (c >= 0xff1a && c <= 0xff20) ||
    (c >= 0x80 && c <= 0xbf) ||
    c === 0xd7 ||
    c === 0xf7 ||
    c === 0xfeff
  );
}
