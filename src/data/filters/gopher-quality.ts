import {type Doc, drop, KEEP, type Verdict} from '../doc.js';
import {pct} from './default-rules.js';
import {lines, words} from './words.js';

/**
 * Gopher quality rules: Rae et al. 2021, "Scaling Language Models: Methods, Analysis & Insights
 * from Training Gopher", Appendix A.1.1 (MassiveWeb quality filters). Defaults are the paper's (as
 * in datatrove's GopherQualityFilter). Words are counted CJK-aware (see `words`).
 */
export interface GopherQualityConfig {
  /** Fewer words: `too_few_words`. Paper: 50. */
  min_words: number;
  /** More words: `too_many_words`. Paper: 100,000. */
  max_words: number;
  /** Mean word length outside [min, max] characters: `mean_word_length`. Paper: 3 to 10. */
  min_mean_word_length: number;
  max_mean_word_length: number;
  /** `#` or ellipses (`...`, `…`) per word above this: `symbol_word_ratio`. Paper: 0.1. */
  max_symbol_word_ratio: number;
  /** Share of lines starting with a bullet above this: `bullet_lines`. Paper: 0.9. */
  max_bullet_lines_ratio: number;
  /** Share of lines ending with an ellipsis above this: `ellipsis_lines`. Paper: 0.3. */
  max_ellipsis_lines_ratio: number;
  /** Share of words with at least one letter below this: `alpha_words`. Paper: 0.8. */
  min_alpha_words_ratio: number;
  /** Fewer of the stop words below: `stop_words`. Paper: 2 of the, be, to, of, and, that, have, with. */
  min_stop_words: number;
  stop_words: string[];
}

export const GOPHER_QUALITY_DEFAULTS: GopherQualityConfig = {
  min_words: 50,
  max_words: 100_000,
  min_mean_word_length: 3,
  max_mean_word_length: 10,
  max_symbol_word_ratio: 0.1,
  max_bullet_lines_ratio: 0.9,
  max_ellipsis_lines_ratio: 0.3,
  min_alpha_words_ratio: 0.8,
  min_stop_words: 2,
  stop_words: ['the', 'be', 'to', 'of', 'and', 'that', 'have', 'with'],
};

const BULLET = /^\s*[•‣●▪◦·∙⁃○■□►▸*-]\s/;
const ALPHA = /\p{L}/u;

export function gopherQuality(config: GopherQualityConfig = GOPHER_QUALITY_DEFAULTS) {
  const stopWords = new Set(config.stop_words.map((w) => w.toLowerCase()));
  return (doc: Doc): Verdict => {
    const text = doc.text;
    const ws = words(text);
    const n = ws.length;
    if (n < config.min_words) return drop('too_few_words', `${n} words < ${config.min_words}`);
    if (n > config.max_words) return drop('too_many_words', `${n} words > ${config.max_words}`);
    let chars = 0;
    for (const w of ws) chars += w.length;
    const mean = chars / n;
    if (mean < config.min_mean_word_length || mean > config.max_mean_word_length) {
      return drop(
        'mean_word_length',
        `mean word length ${mean.toFixed(1)} outside ${config.min_mean_word_length}–${config.max_mean_word_length}`,
      );
    }
    const hashes = count(text, '#');
    const ellipses = count(text, '...') + count(text, '…');
    if (Math.max(hashes, ellipses) / n > config.max_symbol_word_ratio) {
      return drop(
        'symbol_word_ratio',
        `${Math.max(hashes, ellipses)} ${hashes >= ellipses ? '#' : 'ellipses'} for ${n} words`,
      );
    }
    const ls = lines(text);
    const bullets = ls.filter((l) => BULLET.test(l)).length / ls.length;
    if (bullets > config.max_bullet_lines_ratio)
      return drop('bullet_lines', `${pct(bullets)} of lines are bullets`);
    const trailing = ls.filter((l) => /(\.\.\.|…)\s*$/.test(l)).length / ls.length;
    if (trailing > config.max_ellipsis_lines_ratio)
      return drop('ellipsis_lines', `${pct(trailing)} of lines end with an ellipsis`);
    const alpha = ws.filter((w) => ALPHA.test(w)).length / n;
    if (alpha < config.min_alpha_words_ratio)
      return drop('alpha_words', `${pct(alpha)} of words have a letter`);
    let stops = 0;
    for (const w of ws) if (stopWords.has(w.toLowerCase()) && ++stops >= config.min_stop_words) break;
    if (stops < config.min_stop_words)
      return drop('stop_words', `${stops} stop words < ${config.min_stop_words}`);
    return KEEP;
  };
}

function count(text: string, needle: string): number {
  let n = 0;
  for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + needle.length)) n++;
  return n;
}
