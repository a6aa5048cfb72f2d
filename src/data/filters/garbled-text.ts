import {type Doc, drop, KEEP, type Verdict} from '../doc.js';
import {pct} from './default-rules.js';
import {profileOf, setProfileTables} from './text-profile.js';

/**
 * Rules of the `default` preset for text that is characters but not language: encoded data,
 * strings of random characters, keyboard mash. Each looks at whitespace-separated tokens and drops
 * a document only when such tokens make up most of it, so a real email with one hash, one password
 * or one `asdf` in it stays.
 */

/** Calls `visit(start, end)` for each whitespace-separated token of `text`. */
function forEachToken(text: string, visit: (start: number, end: number) => void): void {
  const len = text.length;
  let i = 0;
  while (i < len) {
    while (i < len && text.charCodeAt(i) <= 32) i++;
    const start = i;
    while (i < len && text.charCodeAt(i) > 32) i++;
    if (i > start) visit(start, i);
  }
}

// A URL or an email address: its IDs and query strings are random by design, not mash or noise.
const ADDRESS =
  /(?:\b(?:https?|ftp):\/\/|\bwww\.)[\w.~:/?#[\]@!$&'()*+,;=%-]+|\b[\w.+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b/gi;

/** The text with URL and email tokens blanked out. */
function withoutAddresses(text: string): string {
  return text.includes('://') || text.includes('www.') || text.includes('@')
    ? text.replace(ADDRESS, ' ')
    : text;
}

function nonSpace(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 32) n++;
  return n;
}

export interface EncodedBlobConfig {
  /** Drop when base64/hex tokens hold at least this share of the non-space characters. */
  max_blob_ratio: number;
  /** A token counts from this many characters (base64 of 15 bytes, hex of 10). */
  min_token_chars: number;
}
export const ENCODED_BLOB_DEFAULTS: EncodedBlobConfig = {max_blob_ratio: 0.5, min_token_chars: 20};

/**
 * Base64 or hex data: tokens of the base64/hex alphabet with letters and digits mixed (and, for
 * base64, both cases), which words, numbers, paths and URLs (dots, colons) are not. Reason `encoded_blob`.
 */
export function encodedBlob(config: EncodedBlobConfig = ENCODED_BLOB_DEFAULTS) {
  return (doc: Doc): Verdict => {
    // Prose has no run of base64 characters that long: kept on the shared profile's count.
    if (profileOf(doc).longestBlobRun < config.min_token_chars) return KEEP;
    const text = doc.text;
    let blob = 0;
    forEachToken(text, (start, end) => {
      if (end - start < config.min_token_chars) return;
      let digits = 0;
      let upper = 0;
      let lower = 0;
      let hexLetters = 0;
      for (let i = start; i < end; i++) {
        const c = text.charCodeAt(i);
        if (c >= 48 && c <= 57) digits++;
        else if (c >= 65 && c <= 90) upper++;
        else if (c >= 97 && c <= 122) {
          lower++;
          if (c <= 102) hexLetters++;
        } else if (c !== 43 && c !== 47 && c !== 61 && c !== 95 && c !== 45) return;
      }
      const hex = upper === 0 && lower === hexLetters && digits > 0 && lower > 0;
      const base64 = digits > 0 && upper > 0 && lower > 0;
      if (hex || base64) blob += end - start;
    });
    const ratio = blob / Math.max(1, nonSpace(text));
    return ratio >= config.max_blob_ratio
      ? drop('encoded_blob', `${pct(ratio)} of the text is base64 or hex`)
      : KEEP;
  };
}

export interface RandomSymbolsConfig {
  /** Drop when tokens that switch between letters, digits and symbols at least every other character hold this share of the non-space characters. */
  max_garbled_ratio: number;
  /** Texts with fewer non-space characters are left alone (`:-)`, `A+`, `$9.99`). */
  min_chars: number;
}
export const RANDOM_SYMBOLS_DEFAULTS: RandomSymbolsConfig = {max_garbled_ratio: 0.5, min_chars: 12};

/**
 * Strings of random characters (`x7$kQ!9z@`): words are runs of letters, numbers runs of digits,
 * code mixes them with symbols at word boundaries; random strings switch class every other
 * character. A token counts as garbled when at least half of its neighbouring character pairs
 * change class (letter / digit / symbol) and it has at least 6 characters; URLs and email
 * addresses never do (their IDs are random by design). Reason `random_symbols`.
 */
export function randomSymbols(config: RandomSymbolsConfig = RANDOM_SYMBOLS_DEFAULTS) {
  return (doc: Doc): Verdict => {
    const profile = profileOf(doc);
    const chars = profile.nonSpace;
    if (chars < config.min_chars) return KEEP;
    // A garbled token of length L >= 6 switches class at least (L - 1) / 2 >= 5L/12 times, so a text
    // with fewer switches than 5/12 of the garbled share of its characters cannot reach it.
    if (profile.classSwitches * 12 < 5 * config.max_garbled_ratio * chars) return KEEP;
    const text = withoutAddresses(doc.text);
    let garbled = 0;
    forEachToken(text, (start, end) => {
      if (end - start < 6) return;
      let switches = 0;
      let prev = charClass(text, start, end);
      for (let i = start + 1; i < end; i++) {
        const cls = charClass(text, i, end);
        if (cls !== prev) switches++;
        prev = cls;
      }
      if (switches * 2 >= end - start - 1) garbled += end - start;
    });
    const ratio = garbled / chars;
    return ratio >= config.max_garbled_ratio
      ? drop('random_symbols', `${pct(ratio)} of the text is in tokens of random characters`)
      : KEEP;
  };
}

/**
 * 0 letter (any script), 1 digit, 2 ASCII symbol or punctuation. Number punctuation between two
 * digits is a digit: version numbers, IP addresses, dates and times (1.15.4.2, 10.0.0.1,
 * 2002-08-22, 12:30) are numbers, not random strings.
 */
function charClass(text: string, i: number, end: number): number {
  const c = text.charCodeAt(i);
  if (isDigit(c)) return 1;
  if (c < 128) {
    if ((c | 32) >= 97 && (c | 32) <= 122) return 0;
    const numberPunct = c === 46 || c === 44 || c === 58 || c === 45 || c === 47;
    return numberPunct &&
      i > 0 &&
      i + 1 < end &&
      isDigit(text.charCodeAt(i - 1)) &&
      isDigit(text.charCodeAt(i + 1))
      ? 1
      : 2;
  }
  return 0;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

export interface KeyboardMashConfig {
  /** Drop when at least this share of the letter pairs inside words are pairs English (nearly) never writes. */
  max_rare_pair_ratio: number;
  /** …and at least this many different words have such a pair or no vowel: an odd name or two (repeated or not) is not mash. */
  min_mash_words: number;
  /** Texts with fewer letter pairs are left alone. */
  min_pairs: number;
}
export const KEYBOARD_MASH_DEFAULTS: KeyboardMashConfig = {
  max_rare_pair_ratio: 0.1,
  min_mash_words: 2,
  min_pairs: 12,
};

// Letter pairs that occur less than once in 100,000 letter pairs of English words, counted over the
// IMDB reviews, Reuters stories and State of the Union addresses (bench:clean-quality's tuning
// sources; 32.6M pairs). Keyboard mash is full of them (jk, fj, hj, sdf…), English prose almost never.
const RARE_PAIRS =
  'bf bg bk bq bw bx bz cj cv cw cx cz dk dq dx dz fb fd fh fj fk fn fp fq fv fw fx fz gb gc gf gj gk gp gq gv gw gx gz hg hj hk hp hq hv hx hz ih ij jb jc jd jf jg jh jj jk jl jm jn jp jq js jt jv jw jx jy jz kc kj kp kq kt kv kx kz lj lq lx lz mg mh mj mk mq mv mw mx mz oq pj pk pq pv px pz qa qb qc qd qe qf qg qh qi qj qk ql qm qn qo qp qq qr qs qv qw qx qy qz rj rq rx sj sv sx sz tj tk tq tx uj uq uu vb vc vf vh vj vk vl vm vn vp vq vt vv vw vx vz wc wg wj wp wq wu wv wx wz xb xd xf xg xj xk xl xm xn xq xr xs xv xw xx xz yg yh yj yk yq yv yx yy yz zb zc zd zf zg zh zj zk zm zn zp zq zr zs zt zv zw zx';
const RARE = new Uint8Array(26 * 26);
for (const pair of RARE_PAIRS.split(' ')) RARE[(pair.charCodeAt(0) - 97) * 26 + pair.charCodeAt(1) - 97] = 1;
setProfileTables({rareLetterPair: RARE});
const VOWEL = new Uint8Array(26);
for (const v of 'aeiouy') VOWEL[v.charCodeAt(0) - 97] = 1;

/**
 * Keyboard mash (`asdfjkl sdkfjh qwerqwer`): ASCII letter runs full of letter pairs English does
 * not write, outside URLs and email addresses. English-only evidence — text in other scripts, or
 * with few such pairs, is kept.
 * Reason `keyboard_mash`.
 */
export function keyboardMash(config: KeyboardMashConfig = KEYBOARD_MASH_DEFAULTS) {
  return (doc: Doc): Verdict => {
    // Blanking URLs only removes pairs: too few pairs in the whole text, or (with no URL to blank)
    // too few rare ones, and the text is kept on the shared profile's counts.
    const profile = profileOf(doc);
    if (profile.letterPairs < config.min_pairs) return KEEP;
    if (
      profile.addressMarks === 0 &&
      profile.rareLetterPairs < config.max_rare_pair_ratio * profile.letterPairs
    )
      return KEEP;
    const text = withoutAddresses(doc.text);
    let pairs = 0;
    let rare = 0;
    const mashWords = new Set<number>(); // hashes of the letter runs that look like mash
    // Per letter run: its letters, rare pairs, vowels and hash.
    let run = 0;
    let runRare = 0;
    let runVowels = 0;
    let runHash = 0;
    let prev = -1;
    const endRun = () => {
      if (run >= 4 && (runRare > 0 || (run >= 6 && runVowels === 0))) mashWords.add(runHash);
      run = 0;
      runHash = 0;
      runRare = 0;
      runVowels = 0;
      prev = -1;
    };
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i) | 32;
      if (c < 97 || c > 122 || text.charCodeAt(i) > 122) {
        if (run > 0) endRun();
        continue;
      }
      const letter = c - 97;
      if (prev >= 0) {
        pairs++;
        if (RARE[prev * 26 + letter] === 1) {
          rare++;
          runRare++;
        }
      }
      runVowels += VOWEL[letter]!;
      runHash = Math.imul(runHash ^ (letter + 1), 0x01000193);
      run++;
      prev = letter;
    }
    if (run > 0) endRun();
    if (pairs < config.min_pairs || mashWords.size < config.min_mash_words) return KEEP;
    const ratio = rare / pairs;
    return ratio >= config.max_rare_pair_ratio
      ? drop('keyboard_mash', `${pct(ratio)} of letter pairs are ones English does not write`)
      : KEEP;
  };
}
