import {type Doc, drop, KEEP, type Verdict} from '../doc.js';

/**
 * The `default` preset: rules that drop only what is clearly not text, safe for short documents
 * (reviews, tweets, one-liners). Each is one pass over the char codes.
 */

export interface NonTextConfig {
  /** Drop when control characters (C0 but tab/newlines, DEL, C1), U+FFFD and non-characters are at least this share of all characters. */
  max_control_ratio: number;
}
export const NON_TEXT_DEFAULTS: NonTextConfig = {max_control_ratio: 0.1};

// Any character nonText counts; a text without one (nearly all) is kept after one native regex scan.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL = /[\x00-\x08\x0e-\x1f\x7f-\x9f\ufffd-\uffff]/;

/** Binary data read as text: many control and replacement characters. Reason `non_text`. */
export function nonText(config: NonTextConfig = NON_TEXT_DEFAULTS) {
  return (doc: Doc): Verdict => {
    const text = doc.text;
    if (!CONTROL.test(text)) return KEEP;
    let bad = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (
        (c < 32 && (c < 9 || c > 13)) ||
        (c >= 127 && c <= 159) ||
        c === 0xfffd ||
        c === 0xfffe ||
        c === 0xffff
      ) {
        bad++;
      }
    }
    const ratio = bad / Math.max(1, text.length);
    return ratio >= config.max_control_ratio && bad > 0
      ? drop('non_text', `${pct(ratio)} control or replacement characters`)
      : KEEP;
  };
}

/** Empty or whitespace-only text. Reason `empty`. */
export function notEmpty() {
  return (doc: Doc): Verdict => (/\S/.test(doc.text) ? KEEP : drop('empty'));
}

export interface MojibakeConfig {
  /** Drop when mojibake marks (U+FFFD, UTF-8 read as Latin-1/CP-1252 such as `Ã©`, `â€™`) are at least this share of the non-space characters. */
  max_mojibake_ratio: number;
}
export const MOJIBAKE_DEFAULTS: MojibakeConfig = {max_mojibake_ratio: 0.05};

// The characters a mojibake mark starts with: U+FFFD or a UTF-8 lead byte read as Latin-1.
const MOJIBAKE_START = /[\u00c2-\u00f4\ufffd]/;

/** Text decoded with the wrong character set, beyond repair. Reason `mojibake`. */
export function mojibake(config: MojibakeConfig = MOJIBAKE_DEFAULTS) {
  return (doc: Doc): Verdict => {
    const text = doc.text;
    if (!MOJIBAKE_START.test(text)) return KEEP;
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
    const text = doc.text;
    if (text.length < config.min_chars) return KEEP;
    // The non-space characters are at most text.length: once the text characters reach the ratio of
    // that, the text passes — typical prose does within its first few words.
    const enough = config.min_text_ratio * text.length;
    let chars = 0;
    let textChars = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c <= 32) continue;
      chars++;
      if (c < 128) {
        if ((c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 122)) textChars++;
      } else if (!isNonAsciiSymbol(c)) {
        textChars++;
      }
      if (textChars >= enough) return KEEP;
    }
    if (chars < config.min_chars) return KEEP;
    const ratio = textChars / chars;
    return ratio < config.min_text_ratio
      ? drop('symbol_ratio', `${pct(ratio)} letters or digits < ${pct(config.min_text_ratio)}`)
      : KEEP;
  };
}

// Punctuation and symbol blocks of the BMP; everything else outside ASCII (letters of any script,
// emoji: surrogate pairs, and the BMP's Misc Symbols and Dingbats such as ❤ ☺) counts as text.
function isNonAsciiSymbol(c: number): boolean {
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

export function pct(x: number): string {
  return `${(100 * x).toFixed(x < 0.1 ? 1 : 0)}%`;
}
