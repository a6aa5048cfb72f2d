import {fmix32} from '../dedup/hash64.js';
import {type Doc, drop, KEEP, type Verdict} from '../doc.js';
import {pct} from './default-rules.js';
import {profileOf} from './text-profile.js';

export interface RepeatedLinesConfig {
  /** Drop when lines that repeat an earlier line (case and spacing ignored) are at least this share of the lines… */
  max_repeated_line_ratio: number;
  /** …of a text with at least this many lines that have a letter or digit… */
  min_lines: number;
  /** …and one line occurs at least this many times (a text pasted twice is not a line repeated many times). */
  min_repeats: number;
  /** Or when word 3-grams that repeat an earlier one are at least this share (a phrase said over and over on one line)… */
  max_repeated_trigram_ratio: number;
  /** …in a text of at least this many words. */
  min_words: number;
}
export const REPEATED_LINES_DEFAULTS: RepeatedLinesConfig = {
  max_repeated_line_ratio: 0.5,
  min_lines: 4,
  min_repeats: 3,
  max_repeated_trigram_ratio: 0.7,
  min_words: 20,
};

/**
 * A line or a phrase repeated many times: the shape of spam, broken scrapers and stuck loggers.
 * Gopher's repetition rules (`web`) catch milder repetition in long pages; these thresholds are
 * for text that is mostly repetition, and leave a chorus or a quoted line alone. Reason
 * `repeated_lines`.
 */
export function repeatedLines(config: RepeatedLinesConfig = REPEATED_LINES_DEFAULTS) {
  // Open-addressing set of 3-gram hashes, reused between documents (cleared by stamping).
  let table = new Int32Array(1024);
  let stamps = new Int32Array(1024);
  let stamp = 0;
  const seen = (h: number): boolean => {
    const mask = table.length - 1;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      if (stamps[s] !== stamp) {
        stamps[s] = stamp;
        table[s] = h;
        return false;
      }
      if (table[s] === h) return true;
    }
  };
  const trigramRepeats = (text: string): {grams: number; repeats: number} => {
    if (text.length * 2 > table.length) {
      let size = table.length;
      while (size < text.length * 2) size *= 2;
      table = new Int32Array(size);
      stamps = new Int32Array(size);
    }
    stamp++;
    let w1 = 0;
    let w2 = 0;
    let words = 0;
    let grams = 0;
    let repeats = 0;
    let h = 0x811c9dc5;
    let inWord = false;
    for (let i = 0; i <= text.length; i++) {
      const c = i < text.length ? text.charCodeAt(i) : 32;
      const wordChar = c > 127 || (c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 122);
      if (wordChar) {
        h = Math.imul(h ^ (c < 128 ? c | 32 : c), 0x01000193);
        inWord = true;
        continue;
      }
      if (!inWord) continue;
      inWord = false;
      const w = fmix32(h);
      h = 0x811c9dc5;
      words++;
      if (words >= 3) {
        grams++;
        if (seen(fmix32(Math.imul(w1, 31) ^ Math.imul(w2, 17) ^ w) | 0)) repeats++;
      }
      w1 = w2;
      w2 = w;
    }
    return {grams, repeats};
  };

  return (doc: Doc): Verdict => {
    const text = doc.text;
    const profile = profileOf(doc);
    // The profile's Bloom filter over lines over-counts repeats: under the ratio there, under it exactly.
    if (
      profile.lines >= config.min_lines &&
      profile.lineRepeatsAtMost >= config.max_repeated_line_ratio * profile.lines
    ) {
      const counts = new Map<string, number>();
      let lines = 0;
      let repeated = 0;
      let most = 0;
      for (const raw of text.split('\n')) {
        if (!/[\p{L}\p{N}]/u.test(raw)) continue;
        const line = raw.trim().replace(/\s+/g, ' ').toLowerCase();
        lines++;
        const n = (counts.get(line) ?? 0) + 1;
        counts.set(line, n);
        if (n > 1) repeated++;
        if (n > most) most = n;
      }
      if (
        lines >= config.min_lines &&
        most >= config.min_repeats &&
        repeated / lines >= config.max_repeated_line_ratio
      ) {
        return drop('repeated_lines', `${repeated} of ${lines} lines repeat an earlier line`);
      }
    }
    // The profile's Bloom filter over-counts repeats: under the ratio there, under it exactly.
    if (profile.trigrams + 2 < config.min_words) return KEEP;
    if (profile.trigramRepeatsAtMost < config.max_repeated_trigram_ratio * profile.trigrams) return KEEP;
    const {grams, repeats} = trigramRepeats(text);
    if (grams + 2 < config.min_words) return KEEP;
    const ratio = repeats / grams;
    return ratio >= config.max_repeated_trigram_ratio
      ? drop('repeated_lines', `${pct(ratio)} of the word 3-grams repeat an earlier one`)
      : KEEP;
  };
}
