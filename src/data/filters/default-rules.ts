import {type Doc, drop, KEEP, type Verdict} from '../doc.js';
import {profileOf} from './text-profile.js';

/**
 * The `default` preset: rules that drop only what is clearly not text, safe for short documents
 * (reviews, tweets, one-liners). Each is one pass over the char codes, or none: the text profile's
 * counts keep nearly every row.
 */

export interface NonTextConfig {
  /** Drop when control characters (C0 but tab/newlines, DEL, C1), U+FFFD and non-characters are at least this share of all characters. */
  max_control_ratio: number;
}
export const NON_TEXT_DEFAULTS: NonTextConfig = {max_control_ratio: 0.1};

/** Binary data read as text: many control and replacement characters. Reason `non_text`. */
export function nonText(config: NonTextConfig = NON_TEXT_DEFAULTS) {
  return (doc: Doc): Verdict => {
    // The profile counts the characters this rule means (C0 but tab and line breaks, DEL, C1, U+FFFD–U+FFFF).
    const bad = profileOf(doc).controlChars;
    if (bad === 0) return KEEP;
    const ratio = bad / Math.max(1, doc.text.length);
    return ratio >= config.max_control_ratio && bad > 0
      ? drop('non_text', `${pct(ratio)} control or replacement characters`)
      : KEEP;
  };
}

/** Empty or whitespace-only text. Reason `empty`. */
export function notEmpty() {
  return (doc: Doc): Verdict => {
    // Nearly every row starts with a printable ASCII character: no regular expression call for it.
    const c = doc.text.charCodeAt(0);
    return (c > 32 && c < 127) || /\S/.test(doc.text) ? KEEP : drop('empty');
  };
}

export interface MojibakeConfig {
  /** Drop when mojibake marks (U+FFFD, UTF-8 read as Latin-1/CP-1252 such as `Ã©`, `â€™`) are at least this share of the non-space characters. */
  max_mojibake_ratio: number;
}
export const MOJIBAKE_DEFAULTS: MojibakeConfig = {max_mojibake_ratio: 0.05};

/** Text decoded with the wrong character set, beyond repair. Reason `mojibake`. */
export function mojibake(config: MojibakeConfig = MOJIBAKE_DEFAULTS) {
  return (doc: Doc): Verdict => {
    // The profile counts the characters a mark starts with: U+FFFD or a UTF-8 lead byte read as Latin-1.
    // Every mark starts with such a character, and the rule's count of characters is the profile's nonSpace.
    const {mojibakeStarts, nonSpace} = profileOf(doc);
    if (mojibakeStarts / Math.max(1, nonSpace) < config.max_mojibake_ratio) return KEEP;
    const text = doc.text;
    let marks = 0;
    let chars = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c <= 32) continue;
      chars++;
      if (c === 0xfffd) marks++;
      // A UTF-8 lead byte (Â…ô) read as Latin-1, followed by a continuation byte read as Latin-1 or CP-1252.
      else if (c >= 0xc2 && c <= 0xf4 && i + 1 < text.length && isContinuation(text.charCodeAt(i + 1)))
        marks++;
    }
    const ratio = marks / Math.max(1, chars);
    return marks > 0 && ratio >= config.max_mojibake_ratio
      ? drop('mojibake', `${marks} mis-decoded sequences (${pct(ratio)} of characters)`)
      : KEEP;
  };
}

// Bytes 0x80–0xBF as Latin-1 (U+0080–U+00BF) or as the CP-1252 characters at 0x80–0x9F.
const CP1252_HIGH = new Set([
  0x20ac, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x017d,
  0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x017e,
  0x0178,
]);
function isContinuation(c: number): boolean {
  return (c >= 0x80 && c <= 0xbf) || CP1252_HIGH.has(c);
}

export interface SymbolRatioConfig {
  /** Drop when letters, digits and emoji are less than this share of the non-space characters. */
  min_text_ratio: number;
  /** Texts with fewer non-space characters are never dropped by this rule (`:)`, `!!!`). */
  min_chars: number;
}
export const SYMBOL_RATIO_DEFAULTS: SymbolRatioConfig = {min_text_ratio: 0.1, min_chars: 8};

/** Mostly symbols or punctuation: ASCII art, separators, markup debris. Reason `symbol_ratio`. */
export function symbolRatio(config: SymbolRatioConfig = SYMBOL_RATIO_DEFAULTS) {
  return (doc: Doc): Verdict => {
    if (doc.text.length < config.min_chars) return KEEP;
    // Text characters: ASCII letters and digits, and whatever outside ASCII is not punctuation or a
    // symbol (letters of any script, emoji), counted by the profile.
    const {nonSpace: chars, textChars} = profileOf(doc);
    if (chars < config.min_chars) return KEEP;
    const ratio = textChars / chars;
    return ratio < config.min_text_ratio
      ? drop('symbol_ratio', `${pct(ratio)} letters or digits < ${pct(config.min_text_ratio)}`)
      : KEEP;
  };
}

export function pct(x: number): string {
  return `${(100 * x).toFixed(x < 0.1 ? 1 : 0)}%`;
}
