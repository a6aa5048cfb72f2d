import {type Doc, drop, KEEP, type Verdict} from '../doc.js';
import {pct} from './default-rules.js';
import {countWords} from './words.js';

/**
 * FineWeb's own rules: Penedo et al. 2024, "The FineWeb Datasets: Decanting the Web for the
 * Finest Text Data at Scale", §3 "Developing additional heuristic filters". Thresholds are the paper's; the
 * newline-per-word rule is from datatrove's FineWebQualityFilter, which produced the dataset.
 */
export interface FineWebConfig {
  /** Drop when the share of lines ending in punctuation (. ' " ! ?) is at most this: `line_punct_ratio`. Paper: 0.12. */
  min_line_punct_ratio: number;
  /** Drop when the share of lines of at most `short_line_length` characters is at least this: `short_line_ratio`. Paper: 0.67. */
  max_short_line_ratio: number;
  short_line_length: number;
  /**
   * Drop when the share of characters in lines repeating an earlier line is at least this:
   * `char_dup_ratio`. Paper: 0.1 (datatrove's code defaults to 0.01).
   */
  max_char_dup_ratio: number;
  /** Drop when newlines per word exceed this (lists, menus): `list_ratio`. datatrove: 0.3. */
  max_newline_word_ratio: number;
}

export const FINEWEB_DEFAULTS: FineWebConfig = {
  min_line_punct_ratio: 0.12,
  max_short_line_ratio: 0.67,
  short_line_length: 30,
  max_char_dup_ratio: 0.1,
  max_newline_word_ratio: 0.3,
};

export function fineweb(config: FineWebConfig = FINEWEB_DEFAULTS) {
  return (doc: Doc): Verdict => {
    const text = doc.text;
    const ls = text.split('\n');
    const punct = ls.filter((l) => /[.'"!?]$/.test(l)).length / ls.length;
    if (punct <= config.min_line_punct_ratio) {
      return drop('line_punct_ratio', `${pct(punct)} of lines end in punctuation`);
    }
    const short = ls.filter((l) => l.length <= config.short_line_length).length / ls.length;
    if (short >= config.max_short_line_ratio) {
      return drop(
        'short_line_ratio',
        `${pct(short)} of lines have <= ${config.short_line_length} characters`,
      );
    }
    const seen = new Set<string>();
    let dupChars = 0;
    for (const l of ls) {
      if (l.trim() === '') continue;
      if (seen.has(l)) dupChars += l.length;
      else seen.add(l);
    }
    const dup = dupChars / Math.max(1, text.length - (ls.length - 1));
    if (dup >= config.max_char_dup_ratio)
      return drop('char_dup_ratio', `${pct(dup)} of characters in repeated lines`);
    const newlines = (ls.length - 1) / Math.max(1, countWords(text));
    if (newlines > config.max_newline_word_ratio) {
      return drop('list_ratio', `${newlines.toFixed(2)} newlines per word`);
    }
    return KEEP;
  };
}
