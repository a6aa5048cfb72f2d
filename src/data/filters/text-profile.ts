import {finish, fmix32, lane} from '../dedup/hash64.js';
import type {Doc} from '../doc.js';

/**
 * What the junk rules of the `default` preset need to know of a text, counted in one pass over its
 * char codes and kept per document (the rules of one document share it): most rows are prose, and
 * these counts let every rule keep them without a pass of its own. A rule decides from the profile
 * alone when the profile holds its measure exactly (lorem ipsum, word salad), and otherwise uses it
 * for a bound that only lets through texts that could fail the rule.
 */
export interface TextProfile {
  /** Characters above U+0020. */
  nonSpace: number;
  /** Control characters (C0 but tab and line breaks, DEL, C1), U+FFFD and the non-characters U+FFFE, U+FFFF. */
  controlChars: number;
  /** Letters and digits of any script, and emoji: characters that are not space, punctuation or symbols. */
  textChars: number;
  /** Characters a mojibake mark starts with: U+FFFD, or a UTF-8 lead byte read as Latin-1 (U+00C2–U+00F4). */
  mojibakeStarts: number;
  /** Digits and number punctuation (`. , : / % - + $`) and grid separators (`| ;`). */
  numberChars: number;
  /** Line breaks, and separators between spaces (` | `, ` • `, ` › `, ` » `, ` · `, ` > `, ` / `, ` - `, ` – `, ` — `). */
  newlines: number;
  separators: number;
  /** Segments (between line breaks and separators) of at most SHORT_SEGMENT characters, with a word, and every word a navigation word or one with a digit. */
  navSegments: number;
  /** Places that look like a URL or an email address (`://`, `www.`, `@`). */
  addressMarks: number;
  /** `<` and `/` or `\` characters. */
  angles: number;
  slashes: number;
  /** The longest run of base64/hex characters (`A-Za-z0-9+/=_-`). */
  longestBlobRun: number;
  /** Changes of class (ASCII letter, digit, ASCII symbol; other characters count as letters) between neighbours inside tokens. */
  classSwitches: number;
  /** Pairs of neighbouring ASCII letters, and those English does not write (see garbled-text.ts). */
  letterPairs: number;
  rareLetterPairs: number;
  /** Words (runs of letters, digits and non-ASCII characters), and those of the lorem ipsum vocabulary. */
  words: number;
  loremWords: number;
  /** Adjacent function-word pairs (whitespace tokens, no punctuation between), and the rare ones (see word-salad.ts). */
  functionPairs: number;
  rareFunctionPairs: number;
  /** Word 3-grams, and an upper bound on those that repeat an earlier one (a 4,096-bit Bloom filter). */
  trigrams: number;
  trigramRepeatsAtMost: number;
  /** Lines with a letter or digit, and an upper bound on those equal to an earlier one (spacing and case aside; a 1,024-bit Bloom filter). */
  lines: number;
  lineRepeatsAtMost: number;
  /**
   * For ASCII text, `normalizedHash64(text, DEFAULT_NORMALIZE)` (lower-cased, whitespace collapsed)
   * as [lo, hi], hashed in the same pass so that exact dedup need not read the text again; undefined
   * for text with a character above U+007F (NFKC and Unicode case folding take the full path).
   */
  foldedHash: Uint32Array | undefined;
}

/** The word lists and letter-pair table the profile counts with (set once by the rule modules). */
export interface ProfileTables {
  rareLetterPair: Uint8Array; // [26 × 26]
  loremWords: readonly string[];
  navWords: readonly string[];
  functionWords: readonly string[];
  /** Bit (a · n + b) set: function words a, b make a rare pair. */
  rareFunctionPair: Uint8Array;
}

let tables: ProfileTables | undefined;
let wordKeys = new Int32Array(0);
let wordValues = new Int32Array(0);
const WWW = (() => {
  let h = 5381;
  for (let i = 0; i < 3; i++) h = ((h << 5) + h + 119) | 0;
  return fmix32(h) | 0;
})();
const LOREM_FLAG = 1 << 16;
const NAV_FLAG = 1 << 17;

/** Called by garbled-text.ts, boilerplate.ts and word-salad.ts at load (all three are imported by the preset). */
export function setProfileTables(part: Partial<ProfileTables>): void {
  const t: ProfileTables = {
    ...(tables ?? {
      rareLetterPair: new Uint8Array(676),
      loremWords: [],
      navWords: [],
      functionWords: [],
      rareFunctionPair: new Uint8Array(0),
    }),
    ...part,
  };
  tables = t;
  // word hash → function-word index (low 16 bits, 0xffff: none) | LOREM_FLAG | NAV_FLAG
  const entries = new Map<number, number>();
  for (const [i, w] of t.functionWords.entries()) entries.set(wordHash(w), i);
  for (const w of t.loremWords) entries.set(wordHash(w), (entries.get(wordHash(w)) ?? 0xffff) | LOREM_FLAG);
  for (const w of t.navWords) entries.set(wordHash(w), (entries.get(wordHash(w)) ?? 0xffff) | NAV_FLAG);
  let size = 64;
  while (size < entries.size * 4) size *= 2;
  wordKeys = new Int32Array(size);
  wordValues = new Int32Array(size).fill(-1);
  for (const [h, v] of entries) {
    let s = h & (size - 1);
    while (wordValues[s] !== -1) s = (s + 1) & (size - 1);
    wordKeys[s] = h;
    wordValues[s] = v;
  }
  lastText = undefined;
}

/** The hash the profile gives a word: 33·h + c over its lower-cased char codes (cheap per character), then mixed. */
export function wordHash(word: string): number {
  let h = 5381;
  for (let i = 0; i < word.length; i++) h = ((h << 5) + h + lower(word.charCodeAt(i))) | 0;
  return fmix32(h) | 0;
}

function lower(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

// The rules of one document run one after another, so the last text's profile is the only one
// asked for again. A one-entry cache rather than a WeakMap keyed by the row: the WeakMap's get, set
// and ephemeron sweeps in the garbage collector cost about as much as computing the profile.
let lastText: string | undefined;
let lastProfile: TextProfile | undefined;

/** The profile last computed by profileOf, if it was of `text`: exact dedup reads its foldedHash. */
export function cachedProfile(text: string): TextProfile | undefined {
  return text === lastText ? lastProfile : undefined;
}

/** The profile of `doc.text`, computed once for a run of rules on the same text. */
export function profileOf(doc: Doc): TextProfile {
  const text = doc.text;
  if (text === lastText) return lastProfile!;
  lastProfile = profileText(text);
  lastText = text;
  return lastProfile;
}

// ASCII classes: bit 0 letter, 1 digit, 2 base64/hex, 3 number punctuation or grid separator, 4 may
// lead a function word (( " “), 5 may trail one (. , ; : ! ? " ) ”), 6 separator between spaces.
const CLS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z]/.test(ch)) CLS[c]! |= 1 | 4;
  if (/[0-9]/.test(ch)) CLS[c]! |= 2 | 4 | 8;
  if ('+/=_-'.includes(ch)) CLS[c]! |= 4;
  if ('.,:/%-+$|;'.includes(ch)) CLS[c]! |= 8;
  if ('("'.includes(ch)) CLS[c]! |= 16;
  if ('.,;:!?")'.includes(ch)) CLS[c]! |= 32;
  if ('|>/-'.includes(ch)) CLS[c]! |= 64;
}
const bloom = new Int32Array(128);
const lineBloom = new Int32Array(32);

/**
 * One pass over `text`. Written as one loop with every counter a local (no closures, no per-word
 * allocation): it runs for every row `clean` reads.
 */
export function profileText(text: string): TextProfile {
  const t = tables!;
  const rareLetter = t.rareLetterPair;
  const rareFunction = t.rareFunctionPair;
  const nFunction = t.functionWords.length;
  // Module bindings as locals: the loop reads them without a context load and hole check each time.
  const classes = CLS;
  const grams = bloom;
  const keys = wordKeys;
  const values = wordValues;
  grams.fill(0);
  let numberChars = 0;
  let newlines = 0;
  let separators = 0;
  let angles = 0;
  let slashes = 0;
  let addressMarks = 0;
  let longestBlobRun = 0;
  let classSwitches = 0;
  let letterPairs = 0;
  let rareLetterPairs = 0;
  let words = 0;
  let loremWords = 0;
  let functionPairs = 0;
  let rareFunctionPairs = 0;
  let trigrams = 0;
  let trigramRepeatsAtMost = 0;
  let navSegments = 0;
  let controlChars = 0;
  let textChars = 0;
  let mojibakeStarts = 0;

  let blobRun = 0;
  let prevClass = -1; // class of the previous character of the token; -1: none (token start)
  let prevLetter = -1;
  let h = 5381; // the current word (run of letters, digits, non-ASCII)
  let inWord = false;
  let wordHasDigit = false;
  let w1 = 0;
  let w2 = 0;
  let wordsSeen = 0;
  // The current whitespace token as a function word: 0 leading punctuation, 1 letters, 2 trailing
  // punctuation, 3 not a function word; tokenWord: the function-word index of its letters.
  let state = 0;
  let tokenWord = -1;
  let prevFunction = -1;
  // The current segment (between line breaks and separators).
  let spaces = 0;
  let segmentStart = 0;
  let segmentHasText = false;
  let segmentAllNav = true;
  // hash64AsciiFolded(text, true, true) on the fly: units folded so far, the first unit of an
  // unfinished pair (-1: none), whether whitespace came since the last unit, and the two lanes.
  // Folded in two places, the unit after each non-space ASCII character's branch and the letter run
  // below, with the state in locals: a helper over a state array (one call per unit) made this pass
  // 1.18x slower (same-process A/B on the 64 MB bench corpus).
  let units = 0;
  let pending = -1;
  let gap = false;
  let ascii = true;
  let k1 = 0x9747b28c;
  let k2 = 0x1b873593;
  // The current line's hash (its characters above U+0020, ASCII letters lower-cased), whether it has
  // a letter or digit, and the lines' Bloom filter (used when the text has three line breaks or more).
  const lineGrams = lineBloom;
  lineGrams.fill(0);
  let lh = 5381;
  let lineHasText = false;
  let textLines = 0;
  let lineRepeatsAtMost = 0;

  const len = text.length;
  for (let i = 0; i <= len; i++) {
    const c = i < len ? text.charCodeAt(i) : 10;
    let f = 0; // ASCII class bits (0 for the rest)
    let wordChar: boolean;
    if (c < 128) {
      f = classes[c]!;
      wordChar = (f & 3) !== 0;
    } else wordChar = c !== 0x201c && c !== 0x201d;
    if (inWord && !wordChar) {
      // A word ends: lorem count, function-word index, 3-gram Bloom filter.
      const w = fmix32(h) | 0;
      h = 5381;
      inWord = false;
      words++;
      const mask = keys.length - 1;
      let v = -1;
      for (let s = w & mask; values[s] !== -1; s = (s + 1) & mask) {
        if (keys[s] === w) {
          v = values[s]!;
          break;
        }
      }
      if (v !== -1 && v & LOREM_FLAG) loremWords++;
      if (!wordHasDigit && (v === -1 || !(v & NAV_FLAG))) segmentAllNav = false;
      tokenWord = !wordHasDigit && v !== -1 && (v & 0xffff) !== 0xffff ? v & 0xffff : -1;
      wordHasDigit = false;
      if (++wordsSeen >= 3) {
        trigrams++;
        const g = fmix32(Math.imul(w1, 31) ^ Math.imul(w2, 17) ^ w);
        const bit = 1 << (g & 31);
        const slot = (g >>> 5) & 127;
        if (grams[slot]! & bit) trigramRepeatsAtMost++;
        else grams[slot]! |= bit;
      }
      w1 = w2;
      w2 = w;
    }
    if (c <= 32) {
      if (prevClass !== -1) {
        // A token ends: a function-word pair with the previous token?
        const index = state === 1 || state === 2 ? tokenWord : -1;
        if (index >= 0 && prevFunction >= 0) {
          functionPairs++;
          const bit = prevFunction * nFunction + index;
          rareFunctionPairs += (rareFunction[bit >> 3]! >> (bit & 7)) & 1;
        }
        prevFunction = state === 1 ? index : -1;
        state = 0;
        tokenWord = -1;
        prevClass = -1;
        prevLetter = -1;
        blobRun = 0;
      }
      if (i < len) spaces++;
      if (c < 9 || (c > 13 && c < 32)) controlChars++;
      else {
        gap = true;
        if (c === 10) {
          if (i < len) newlines++;
          if (lineHasText) {
            textLines++;
            const g = fmix32(lh);
            const bit = 1 << (g & 31);
            const slot = (g >>> 5) & 31;
            if (lineGrams[slot]! & bit) lineRepeatsAtMost++;
            else lineGrams[slot]! |= bit;
          }
          lh = 5381;
          lineHasText = false;
          if (segmentHasText && segmentAllNav && i - segmentStart <= SHORT_SEGMENT) navSegments++;
          segmentStart = i + 1;
          segmentHasText = false;
          segmentAllNav = true;
        }
        continue;
      }
    }
    if (ascii) {
      if (c >= 128) ascii = false;
      else {
        // The unit c (control characters as they are), after the one space a whitespace run since
        // the last unit folds to: one or two units, so at most one full pair k to fold (-1: none).
        const u = c >= 65 && c <= 90 ? c + 32 : c;
        let k = -1;
        if (gap && units > 0) {
          units += 2;
          if (pending === -1) k = 32 | (u << 16);
          else {
            k = pending | (32 << 16);
            pending = u;
          }
        } else {
          units++;
          if (pending === -1) pending = u;
          else {
            k = pending | (u << 16);
            pending = -1;
          }
        }
        gap = false;
        if (k !== -1) {
          k1 = lane(k1, k, 0xcc9e2d51, 0x1b873593);
          k2 = lane(k2, k, 0x85ebca77, 0xc2b2ae3d);
        }
      }
    }
    if (c <= 32) continue; // a control character: counted and hashed, nothing else
    let cls: number; // 0 letter, 1 digit, 2 symbol
    if (c < 128) {
      cls = f & 1 ? 0 : f & 2 ? 1 : 2;
      lh = ((lh << 5) + lh + (f & 1 ? c | 32 : c)) | 0;
      if (f & 3) lineHasText = true;
      if (f & 8) numberChars++;
      if (f & 4) {
        if (++blobRun > longestBlobRun) longestBlobRun = blobRun;
      } else blobRun = 0;
      if (cls === 0) {
        const letter = (c | 32) - 97;
        if (prevLetter >= 0) {
          letterPairs++;
          rareLetterPairs += rareLetter[prevLetter * 26 + letter]!;
        }
        h = ((h << 5) + h + (c | 32)) | 0;
        inWord = true;
        if (state === 0) state = 1;
        else if (state !== 1) state = 3;
        // The rest of a run of ASCII letters (most characters of prose) changes only the letter
        // pairs, the word hash and the blob run: no class switch, state or segment change.
        let prev = letter;
        let j = i + 1;
        for (; j < len; j++) {
          const d = text.charCodeAt(j) | 32;
          const next = d - 97;
          if (next >>> 0 >= 26) break;
          rareLetterPairs += rareLetter[prev * 26 + next]!;
          h = ((h << 5) + h + d) | 0;
          lh = ((lh << 5) + lh + d) | 0;
          prev = next;
          if (pending === -1) pending = d;
          else {
            const k = pending | (d << 16);
            k1 = lane(k1, k, 0xcc9e2d51, 0x1b873593);
            k2 = lane(k2, k, 0x85ebca77, 0xc2b2ae3d);
            pending = -1;
          }
        }
        const more = j - i - 1;
        units += more;
        letterPairs += more;
        textChars += more;
        blobRun += more;
        if (blobRun > longestBlobRun) longestBlobRun = blobRun;
        prevLetter = prev;
        i = j - 1;
      } else if (cls === 1) {
        prevLetter = -1;
        h = ((h << 5) + h + c) | 0;
        inWord = true;
        wordHasDigit = true;
        state = 3;
      } else {
        prevLetter = -1;
        if (c === 127) controlChars++;
        if (c === 60) angles++;
        else if (c === 47 || c === 92) slashes++;
        else if (c === 64) addressMarks++;
        else if (c === 58 && text.charCodeAt(i + 1) === 47 && text.charCodeAt(i + 2) === 47) addressMarks++;
        else if (c === 46 && w2 === WWW && i >= 3 && (text.charCodeAt(i - 1) | 32) === 119) addressMarks++;
        if (f & 64 && prevClass === -1 && (i + 1 >= len || text.charCodeAt(i + 1) <= 32)) {
          separators++;
          if (segmentHasText && segmentAllNav && i - segmentStart <= SHORT_SEGMENT) navSegments++;
          segmentStart = i + 1;
          segmentHasText = false;
          segmentAllNav = true;
        }
        if (state === 0) state = f & 16 ? 0 : 3;
        else if (state === 1 || state === 2) state = f & 32 ? 2 : 3;
      }
      if (cls !== 2) {
        segmentHasText = true;
        textChars++;
      }
    } else {
      cls = 0;
      lh = ((lh << 5) + lh + c) | 0;
      lineHasText = true;
      blobRun = 0;
      prevLetter = -1;
      if (!isNonAsciiSymbol(c)) textChars++;
      if (c <= 0x9f || c >= 0xfffd) controlChars++;
      if ((c >= 0xc2 && c <= 0xf4) || c === 0xfffd) mojibakeStarts++;
      if (c === 0x201d) {
        if (state === 1 || state === 2) state = 2;
      } else if (c !== 0x201c || state !== 0) {
        if (prevClass === -1 && (i + 1 >= len || text.charCodeAt(i + 1) <= 32) && isSeparator(c)) {
          separators++;
          if (segmentHasText && segmentAllNav && i - segmentStart <= SHORT_SEGMENT) navSegments++;
          segmentStart = i + 1;
          segmentHasText = false;
          segmentAllNav = true;
        }
        h = ((h << 5) + h + c) | 0;
        inWord = true;
        state = 3;
        segmentHasText = true;
      }
    }
    if (prevClass !== -1 && cls !== prevClass) classSwitches++;
    prevClass = cls;
  }
  const few = newlines < 3;
  return {
    nonSpace: len - spaces,
    controlChars,
    textChars,
    mojibakeStarts,
    numberChars,
    newlines,
    separators,
    navSegments,
    addressMarks,
    angles,
    slashes,
    longestBlobRun,
    classSwitches,
    letterPairs,
    rareLetterPairs,
    words,
    loremWords,
    functionPairs,
    rareFunctionPairs,
    trigrams,
    trigramRepeatsAtMost,
    lines: few ? newlines + 1 : textLines,
    lineRepeatsAtMost: few ? 0 : lineRepeatsAtMost,
    foldedHash: ascii ? finish(k1, k2, pending, units, new Uint32Array(2)) : undefined,
  };
}

/** Segments of at most this many characters count as short: navigation items are. */
export const SHORT_SEGMENT = 100;

function isSeparator(c: number): boolean {
  return c === 0x2022 || c === 0x203a || c === 0xbb || c === 0xb7 || c === 0x2013 || c === 0x2014;
}

// Punctuation and symbol blocks of the BMP; everything else outside ASCII (letters of any script,
// emoji: surrogate pairs, and the BMP's Misc Symbols and Dingbats such as ❤ ☺) counts as text.
export function isNonAsciiSymbol(c: number): boolean {
  return (
    c <= 0xbf ||
    c === 0xd7 ||
    c === 0xf7 ||
    (c >= 0x2000 && c <= 0x2bff && !(c >= 0x2460 && c <= 0x24ff) && !(c >= 0x2600 && c <= 0x27bf)) ||
    (c >= 0x3000 && c <= 0x303f) ||
    (c >= 0xe000 && c <= 0xf8ff) ||
    (c >= 0xfe30 && c <= 0xfe4f) ||
    (c >= 0xff01 && c <= 0xff0f) ||
    c >= 0xfff0
  );
}
