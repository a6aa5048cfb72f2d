import {isSpace} from '../dedup/hash64.js';
import {type Doc, drop, KEEP, type Verdict} from '../doc.js';
import {pct} from './default-rules.js';
import {profileOf} from './text-profile.js';

/**
 * Rules of the `default` preset for documents that are data, not prose: grids of numbers, lists of
 * URLs or paths, HTML markup. Each needs the data to be most of the document and to come in
 * quantity, so a review with a score, an email with a link or a stray `<br />` is kept.
 */

export interface NumberGridConfig {
  /** Drop when digits and number punctuation are at least this share of the non-space characters… */
  min_number_ratio: number;
  /** …letters at most this share (tables of figures with a few words, as in earnings reports, stay)… */
  max_letter_ratio: number;
  /** …and the text holds at least this many numbers. */
  min_numbers: number;
}
export const NUMBER_GRID_DEFAULTS: NumberGridConfig = {
  min_number_ratio: 0.6,
  max_letter_ratio: 0.2,
  min_numbers: 8,
};

/** A table or grid of numbers with next to no words. Reason `number_grid`. */
export function numberGrid(config: NumberGridConfig = NUMBER_GRID_DEFAULTS) {
  return (doc: Doc): Verdict => {
    const profile = profileOf(doc);
    if (profile.numberChars < config.min_number_ratio * profile.nonSpace) return KEEP;
    const text = doc.text;
    let chars = 0;
    let digits = 0;
    let letters = 0;
    let numbers = 0;
    let inNumber = false;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c <= 32) {
        inNumber = false;
        continue;
      }
      chars++;
      if (c >= 48 && c <= 57) {
        digits++;
        if (!inNumber) numbers++;
        inNumber = true;
        continue;
      }
      // . , : / % - + $ and the grid separators | ; keep a number going (1,234.5 is one number).
      const numberPunct =
        c === 46 || c === 44 || c === 58 || c === 47 || c === 37 || c === 45 || c === 43 || c === 36;
      if (numberPunct || c === 124 || c === 59) {
        digits++;
        inNumber = inNumber && numberPunct;
        continue;
      }
      inNumber = false;
      letters++;
      if (letters > config.max_letter_ratio * text.length) return KEEP;
    }
    if (numbers < config.min_numbers || chars === 0) return KEEP;
    const ratio = digits / chars;
    return ratio >= config.min_number_ratio && letters <= config.max_letter_ratio * chars
      ? drop('number_grid', `${numbers} numbers, ${pct(letters / chars)} letters`)
      : KEEP;
  };
}

export interface UrlListConfig {
  /** Drop when URL and path tokens hold at least this share of the non-space characters… */
  max_url_ratio: number;
  /** …and there are at least this many of them. */
  min_urls: number;
}
export const URL_LIST_DEFAULTS: UrlListConfig = {max_url_ratio: 0.6, min_urls: 3};

// A URL (scheme://, www.), a domain with a path, or a file path of two or more parts (Unix or Windows).
const URL_OR_PATH =
  /^[<("'[]*(?:(?:[a-z][a-z0-9+.-]*:\/\/|www\.)\S+|[\w-]+(?:\.[\w-]+)+\/\S*|(?:[a-z]:)?[\\/][\w.~-]+(?:[\\/][\w.~-]*)+)$/i;

/** A list of links or file paths. Reason `url_list`. */
export function urlList(config: UrlListConfig = URL_LIST_DEFAULTS) {
  return (doc: Doc): Verdict => {
    // Each URL or path has a slash (or backslash): a text with fewer than min_urls of them is kept.
    if (profileOf(doc).slashes < config.min_urls) return KEEP;
    const text = doc.text;
    // Prose with a few slashes (and/or, 1/2, a link): its tokens that could be URLs are too few or too short.
    const bound = urlBound(text);
    if (
      bound.tokens < config.min_urls ||
      bound.chars === 0 ||
      bound.tokenChars / bound.chars < config.max_url_ratio
    )
      return KEEP;
    let chars = 0;
    let urlChars = 0;
    let urls = 0;
    for (const token of text.split(/\s+/)) {
      chars += token.length;
      // Trailing punctuation (a comma between list items, a full stop) is not part of the URL.
      if (URL_OR_PATH.test(token.replace(/[.,;:!?)\]>'"|]+$/, ''))) {
        urls++;
        urlChars += token.length;
      }
    }
    if (urls < config.min_urls || chars === 0) return KEEP;
    const ratio = urlChars / chars;
    return ratio >= config.max_url_ratio
      ? drop('url_list', `${urls} URLs or paths, ${pct(ratio)} of the text`)
      : KEEP;
  };
}

/**
 * An upper bound on urlList's URL tokens and their characters, and its exact character count, in
 * one pass over the char codes: the tokens (between runs of `\s`, as urlList splits) that hold a
 * slash, a backslash or `www.`, which every URL_OR_PATH match does.
 */
function urlBound(text: string): {tokens: number; tokenChars: number; chars: number} {
  let tokens = 0;
  let tokenChars = 0;
  let chars = 0;
  const len = text.length;
  let i = 0;
  while (i < len) {
    while (i < len && isSpace(text.charCodeAt(i))) i++;
    const start = i;
    let marked = false;
    for (; i < len; i++) {
      const c = text.charCodeAt(i);
      if (isSpace(c)) break;
      if (c === 47 || c === 92) marked = true;
      else if (c === 46 && i - start >= 3 && isW(text, i - 1) && isW(text, i - 2) && isW(text, i - 3))
        marked = true;
    }
    chars += i - start;
    if (marked) {
      tokens++;
      tokenChars += i - start;
    }
  }
  return {tokens, tokenChars, chars};
}

function isW(text: string, i: number): boolean {
  return (text.charCodeAt(i) | 32) === 119;
}

export interface MarkupSoupConfig {
  /** Drop when tags, comments, entities and script/style bodies are at least this share of the non-space characters… */
  max_markup_ratio: number;
  /** …and there are at least this many tags. `<br>` counts as neither: it is a line break left in text. */
  min_tags: number;
}
export const MARKUP_SOUP_DEFAULTS: MarkupSoupConfig = {max_markup_ratio: 0.5, min_tags: 3};

const MARKUP =
  /<(script|style)\b[^>]*>[\s\S]*?<\/\1\s*>|<!--[\s\S]*?-->|<\/?[a-z][a-z0-9-]*(?:\s[^<>]*)?\/?>|&(?:#x[0-9a-f]+|#\d+|[a-z]+);/gi;
const BREAK = /^<\s*br\b/i;

/**
 * HTML that is mostly markup: tags, attributes, scripts and styles with little text between them.
 * With `--strip-html` the markup is turned into text first, so this rule sees what is left.
 * Reason `markup_soup`.
 */
export function markupSoup(config: MarkupSoupConfig = MARKUP_SOUP_DEFAULTS) {
  return (doc: Doc): Verdict => {
    if (profileOf(doc).angles < config.min_tags) return KEEP;
    const text = doc.text;
    let tags = 0;
    let markup = 0;
    for (const m of text.matchAll(MARKUP)) {
      if (BREAK.test(m[0])) continue;
      if (m[0][0] === '<') tags++;
      markup += m[0].replace(/\s+/g, '').length;
    }
    if (tags < config.min_tags) return KEEP;
    let chars = 0;
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 32) chars++;
    const ratio = markup / Math.max(1, chars);
    return ratio >= config.max_markup_ratio
      ? drop('markup_soup', `${tags} tags, ${pct(ratio)} of the text is markup`)
      : KEEP;
  };
}
