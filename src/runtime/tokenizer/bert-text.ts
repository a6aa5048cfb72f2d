import {charClass} from './char-class.js';
import * as tables from './unicode-tables.js';

/**
 * BERT's text preparation as Hugging Face tokenizers' `BertNormalizer` and `BertPreTokenizer` do it
 * (tokenizers/src/normalizers/bert.rs, pre_tokenizers/bert.rs), with the character classes of the
 * tables they use (unicode-tables.ts), so WordPiece sees the same words in the browser as in Node.
 */

export interface BertNormalizerOptions {
  /** Drop control characters (and NUL, U+FFFD); every other whitespace becomes a space. */
  cleanText: boolean;
  /** Put spaces around CJK ideographs, so each is a word. */
  handleChineseChars: boolean;
  /** NFD, then drop nonspacing marks. Default (null): as `lowercase`. */
  stripAccents: boolean | null;
  /** Lowercase character by character (Σ is σ even at the end of a word). */
  lowercase: boolean;
}

const CONTROL = new RegExp(charClass(tables.CONTROL), 'gu');
// Rust's `char::is_whitespace` is Unicode's White_Space property.
const WHITESPACE = /\p{White_Space}/gu;
// The "CJK Unified Ideographs" blocks bert.rs lists (not Hangul, Hiragana or Katakana).
const CHINESE =
  /[\u4e00-\u9fff\u3400-\u4dbf\u{20000}-\u{2a6df}\u{2a700}-\u{2b73f}\u{2b740}-\u{2b81f}\u{2b920}-\u{2ceaf}\uf900-\ufaff\u{2f800}-\u{2fa1f}]/gu;
const NONSPACING_MARK = new RegExp(charClass(tables.NONSPACING_MARK), 'gu');
// Split out before NFD, which leaves them whole in the crate's older Unicode.
const KEPT_WHOLE = new RegExp(`(${charClass(tables.KEPT_WHOLE)})`, 'u');
const LOWERCASED = /\p{Changes_When_Lowercased}/gu;

/** The text as `BertNormalizer` leaves it. */
export function bertNormalize(text: string, options: BertNormalizerOptions): string {
  let s = text;
  // Controls go first: \v, \f and U+0085 are both control and whitespace, and are dropped.
  if (options.cleanText) s = s.replace(CONTROL, '').replace(WHITESPACE, ' ');
  if (options.handleChineseChars) s = s.replace(CHINESE, ' $& ');
  if (options.stripAccents ?? options.lowercase) s = stripAccents(s);
  // One character at a time, as Rust's `char::to_lowercase`: String.toLowerCase would apply the
  // final-sigma rule (ΟΔΟΣ → οδος) that the Rust normalizer does not (→ οδοσ).
  if (options.lowercase) s = s.replace(LOWERCASED, (c) => c.toLowerCase());
  return s;
}

function stripAccents(text: string): string {
  const pieces = text.split(KEPT_WHOLE);
  for (let i = 0; i < pieces.length; i += 2) pieces[i] = pieces[i]!.normalize('NFD');
  return pieces.join('').replace(NONSPACING_MARK, '');
}

// Unicode P* and ASCII punctuation (Rust's `is_ascii_punctuation`, which has $ + < = > ^ ` | ~).
const PUNCTUATION = new RegExp(`(${charClass(tables.PUNCTUATION)})`, 'u');
const SPACES = /\p{White_Space}+/u;

/** Words as `BertPreTokenizer` splits them: on whitespace (dropped), each punctuation mark alone. */
export function bertPreTokenize(text: string): string[] {
  const words: string[] = [];
  for (const chunk of text.split(SPACES)) {
    for (const piece of chunk.split(PUNCTUATION)) if (piece !== '') words.push(piece);
  }
  return words;
}
