import {type Doc, drop, KEEP, type Verdict} from '../doc.js';
import {pct} from './default-rules.js';
import {lines, words} from './words.js';

/**
 * Gopher repetition rules: Rae et al. 2021, Appendix A.1.1 and Table A1 — documents that repeat
 * lines, paragraphs or n-grams. Thresholds are the paper's (as in datatrove's
 * GopherRepetitionFilter); character fractions are of the whole text.
 */
export interface GopherRepetitionConfig {
  /** Share of paragraphs (split on blank lines) that repeat an earlier one: `repeated_paragraphs`. 0.3. */
  max_dup_paragraph_ratio: number;
  /** Characters in repeated paragraphs: `repeated_paragraph_chars`. 0.2. */
  max_dup_paragraph_char_ratio: number;
  /** Share of lines that repeat an earlier one: `repeated_lines`. 0.3. */
  max_dup_line_ratio: number;
  /** Characters in repeated lines: `repeated_line_chars`. 0.2. */
  max_dup_line_char_ratio: number;
  /** [n, max share of characters covered by the most frequent n-gram]: `top_ngram_repetition`. */
  top_ngrams: [number, number][];
  /** [n, max share of characters in n-grams that occur more than once]: `duplicate_ngram_repetition`. */
  dup_ngrams: [number, number][];
}

export const GOPHER_REPETITION_DEFAULTS: GopherRepetitionConfig = {
  max_dup_paragraph_ratio: 0.3,
  max_dup_paragraph_char_ratio: 0.2,
  max_dup_line_ratio: 0.3,
  max_dup_line_char_ratio: 0.2,
  top_ngrams: [
    [2, 0.2],
    [3, 0.18],
    [4, 0.16],
  ],
  dup_ngrams: [
    [5, 0.15],
    [6, 0.14],
    [7, 0.13],
    [8, 0.12],
    [9, 0.11],
    [10, 0.1],
  ],
};

export function gopherRepetition(config: GopherRepetitionConfig = GOPHER_REPETITION_DEFAULTS) {
  return (doc: Doc): Verdict => {
    const text = doc.text;
    const total = Math.max(1, text.length);
    const paragraphs = text.trim().split(/\n{2,}/);
    const para = repeats(paragraphs);
    if (para.count / paragraphs.length > config.max_dup_paragraph_ratio) {
      return drop('repeated_paragraphs', `${para.count} of ${paragraphs.length} paragraphs repeat`);
    }
    if (para.chars / total > config.max_dup_paragraph_char_ratio) {
      return drop(
        'repeated_paragraph_chars',
        `${pct(para.chars / total)} of characters in repeated paragraphs`,
      );
    }
    // Blank lines are separators, not content: counted as lines, five paragraphs would already
    // "repeat" 3 of 9 lines.
    const ls = lines(text).filter((l) => l.trim() !== '');
    const line = repeats(ls);
    if (line.count / Math.max(1, ls.length) > config.max_dup_line_ratio) {
      return drop('repeated_lines', `${line.count} of ${ls.length} lines repeat`);
    }
    if (line.chars / total > config.max_dup_line_char_ratio) {
      return drop('repeated_line_chars', `${pct(line.chars / total)} of characters in repeated lines`);
    }
    const ws = words(text).map((w) => w.toLowerCase());
    for (const [n, max] of config.top_ngrams) {
      const share = topNgramChars(ws, n) / total;
      if (share > max)
        return drop('top_ngram_repetition', `top ${n}-gram covers ${pct(share)} of characters > ${pct(max)}`);
    }
    for (const [n, max] of config.dup_ngrams) {
      const share = duplicateNgramChars(ws, n) / total;
      if (share > max) {
        return drop(
          'duplicate_ngram_repetition',
          `repeated ${n}-grams cover ${pct(share)} of characters > ${pct(max)}`,
        );
      }
    }
    return KEEP;
  };
}

/** Elements equal to an earlier one: how many, and their characters. */
function repeats(items: string[]): {count: number; chars: number} {
  const seen = new Set<string>();
  let count = 0;
  let chars = 0;
  for (const item of items) {
    if (seen.has(item)) {
      count++;
      chars += item.length;
    } else {
      seen.add(item);
    }
  }
  return {count, chars};
}

/** Characters of the most frequent n-gram times its count (words joined by single spaces). */
function topNgramChars(ws: string[], n: number): number {
  if (ws.length < n) return 0;
  const counts = new Map<string, number>();
  let best = 0;
  let bestKey = '';
  for (let i = 0; i + n <= ws.length; i++) {
    const key = ws.slice(i, i + n).join(' ');
    const c = (counts.get(key) ?? 0) + 1;
    counts.set(key, c);
    if (c > best || (c === best && key.length > bestKey.length)) [best, bestKey] = [c, key];
  }
  // A gram seen once is not repetition.
  return best > 1 ? best * bestKey.length : 0;
}

/**
 * Characters in n-grams that repeat an earlier n-gram; after a repeat the scan jumps past it, so
 * overlapping repeats are not counted twice (the paper's "duplicate n-gram character fraction").
 */
function duplicateNgramChars(ws: string[], n: number): number {
  const seen = new Set<string>();
  let chars = 0;
  for (let i = 0; i + n <= ws.length; ) {
    const key = ws.slice(i, i + n).join(' ');
    if (seen.has(key)) {
      chars += key.length;
      i += n;
    } else {
      seen.add(key);
      i++;
    }
  }
  return chars;
}
