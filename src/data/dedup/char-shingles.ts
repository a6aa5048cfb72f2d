import {fmix32} from './hash64.js';

/**
 * Character n-gram shingles for near dedup (default n = 5). The text is first put in the form near
 * dedup compares: letters lower-cased, and every run of whitespace, punctuation and symbols one
 * space (none at the ends) — so `Great movie,  loved it!` and `great movie loved it` shingle alike.
 * Characters of every script count one each, so CJK text, written without spaces, needs nothing
 * special. A text shorter than n (after that folding) is one shingle of all it has.
 *
 * Works on char codes with a rolling hash: no string is made per shingle, and the buffers are reused
 * between calls, so one CharShingler serves one stream.
 */
export class CharShingler {
  /** Shingle hashes of the last text (well mixed 32-bit values), valid up to the count `shingle` returned. */
  hashes = new Int32Array(4096);
  private readonly window: Int32Array;
  /** base^(n-1) mod 2^32: the weight of the character that leaves the window. */
  private readonly outWeight: number;

  /** @param n characters per shingle (5: short enough that a one-word edit in a ten-word text leaves most shingles intact). */
  constructor(readonly n = 5) {
    this.window = new Int32Array(n);
    let w = 1;
    for (let i = 1; i < n; i++) w = Math.imul(w, BASE);
    this.outWeight = w;
  }

  /** Fills `hashes` with the shingle hashes of `text` (in text order, repeats included) and returns how many there are. */
  shingle(text: string): number {
    const n = this.n;
    const window = this.window;
    const outWeight = this.outWeight;
    if (this.hashes.length < text.length) this.hashes = new Int32Array(grow(this.hashes.length, text.length));
    const out = this.hashes;
    let count = 0;
    let seen = 0; // folded characters so far
    let h = 0; // polynomial hash of the window: Σ c_i · BASE^(n-1-i) mod 2^32
    let pendingSpace = false;
    const len = text.length;
    for (let i = 0; i < len; i++) {
      let c = text.charCodeAt(i);
      if (c < 128) {
        const cls = ASCII_CLASS[c]!;
        if (cls === 0) {
          pendingSpace = seen > 0;
          continue;
        }
        if (cls === 2) c += 32;
      } else if (isSeparator(c)) {
        pendingSpace = seen > 0;
        continue;
      } else if (c < LOWER.length) {
        c = LOWER[c]!;
      }
      if (pendingSpace) {
        pendingSpace = false;
        h = this.push(h, 32, seen++, window, outWeight);
        if (seen >= n) out[count++] = fmix32(h ^ SEED) | 0;
      }
      h = this.push(h, c, seen++, window, outWeight);
      if (seen >= n) out[count++] = fmix32(h ^ SEED) | 0;
    }
    if (count === 0 && seen > 0) out[count++] = fmix32(h ^ SEED ^ seen) | 0;
    return count;
  }

  private push(h: number, c: number, seen: number, window: Int32Array, outWeight: number): number {
    const slot = seen % this.n;
    if (seen >= this.n) h = (h - Math.imul(window[slot]!, outWeight)) | 0;
    window[slot] = c;
    return (Math.imul(h, BASE) + c) | 0;
  }
}

/**
 * Exact Jaccard similarity of two shingle-hash multisets given as sorted, duplicate-free arrays:
 * |A ∩ B| / |A ∪ B| (1 for two empty sets).
 */
export function jaccardOfSorted(a: Int32Array, aCount: number, b: Int32Array, bCount: number): number {
  let i = 0;
  let j = 0;
  let both = 0;
  while (i < aCount && j < bCount) {
    const x = a[i]!;
    const y = b[j]!;
    if (x === y) {
      both++;
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  const union = aCount + bCount - both;
  return union === 0 ? 1 : both / union;
}

/** Sorts `hashes[0..count)` in place and drops repeats; returns the number of distinct values. */
export function sortDistinct(hashes: Int32Array, count: number): number {
  const view = hashes.subarray(0, count).sort();
  let k = 0;
  for (let i = 0; i < count; i++) if (i === 0 || view[i] !== view[k - 1]) view[k++] = view[i]!;
  return k;
}

/** Jaccard similarity of the character n-gram sets of two texts, as near dedup defines it. */
export function charShingleJaccard(a: string, b: string, n = 5): number {
  const sa = new CharShingler(n);
  const sb = new CharShingler(n);
  const na = sa.shingle(a); // before reading .hashes: shingling may replace the buffer
  const nb = sb.shingle(b);
  const ca = sortDistinct(sa.hashes, na);
  const cb = sortDistinct(sb.hashes, nb);
  return jaccardOfSorted(sa.hashes, ca, sb.hashes, cb);
}

// An odd multiplier for the rolling polynomial hash, and a seed that keeps a text of fewer than n
// characters from sharing a hash with an n-gram.
const BASE = 0x01000193;
const SEED = 0x2545f491;

function grow(size: number, need: number): number {
  while (size < need) size *= 2;
  return size;
}

// 0: separator (space, punctuation, symbol), 1: kept as is, 2: upper-case letter.
const ASCII_CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  if ((c >= 48 && c <= 57) || (c >= 97 && c <= 122)) ASCII_CLASS[c] = 1;
  else if (c >= 65 && c <= 90) ASCII_CLASS[c] = 2;
}

// Lower-case map for Latin-1, Latin Extended, Greek and Cyrillic (U+0080–U+052F).
const LOWER = new Uint16Array(0x530);
for (let c = 0; c < LOWER.length; c++) {
  const lower = String.fromCharCode(c).toLowerCase();
  LOWER[c] = lower.length === 1 ? lower.charCodeAt(0) : c;
}

/** Non-ASCII spaces, punctuation and symbols (General Punctuation, CJK and full-width punctuation, Latin-1 marks). */
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
