import {type Doc, drop, KEEP, type Verdict} from '../doc.js';
import {lines} from './words.js';

/**
 * C4 rules: Raffel et al. 2020, "Exploring the Limits of Transfer Learning with a Unified
 * Text-to-Text Transformer", §2.2 ("Colossal Clean Crawled Corpus"), with the policy-line and
 * long-word rules of the reference implementation (tensorflow_datasets c4_utils) that datatrove's
 * C4QualityFilter also applies. Line rules decide which lines a page keeps; page rules drop it.
 * The bad-words list rule is left out: it needs a word list this kit does not ship.
 */
export interface C4Config {
  /** Keep only lines ending in terminal punctuation (. ? ! " ') and not in an ellipsis. */
  terminal_punctuation: boolean;
  /** Keep only lines with at least this many words. Paper: 3. */
  min_words_per_line: number;
  /** Drop lines with a word longer than this. Reference code: 1000. */
  max_word_length: number;
  /** Drop lines that mention javascript. */
  javascript: boolean;
  /** Drop lines with cookie / terms-of-use / privacy-policy boilerplate. */
  policy: boolean;
  /** Drop the page if it contains "lorem ipsum": `lorem_ipsum`. */
  lorem_ipsum: boolean;
  /** Drop the page if it contains a curly bracket (code): `curly_bracket`. */
  curly_bracket: boolean;
  /** Drop the page if its kept lines hold fewer sentences: `too_few_sentences`. Paper: 5. */
  min_sentences: number;
  /** Rewrite kept pages to their kept lines, as C4 does; false only judges them. */
  remove_lines: boolean;
}

export const C4_DEFAULTS: C4Config = {
  terminal_punctuation: true,
  min_words_per_line: 3,
  max_word_length: 1000,
  javascript: true,
  policy: true,
  lorem_ipsum: true,
  curly_bracket: true,
  min_sentences: 5,
  remove_lines: true,
};

const POLICY = [
  'terms of use',
  'privacy policy',
  'cookie policy',
  'uses cookies',
  'use of cookies',
  'use cookies',
];
const CITATION = /\[\d*\]|\[edit\]|\[citation needed\]/gi;
const SENTENCE_END = /[.!?]+["'”’)]*(?=\s|$)/g;

/** The lines C4 keeps, and the page-level reason to drop it if there is one. */
export function c4Lines(text: string, config: C4Config = C4_DEFAULTS): {kept: string[]; reason?: string} {
  const kept: string[] = [];
  let sentences = 0;
  for (const raw of lines(text)) {
    let line = raw.trim();
    const ws = line.split(/\s+/).filter(Boolean);
    if (ws.some((w) => w.length > config.max_word_length)) continue;
    line = line.replace(CITATION, '');
    if (config.terminal_punctuation && (!/[.?!"']$/.test(line) || line.endsWith('...'))) continue;
    if (ws.length < config.min_words_per_line) continue;
    const lower = line.toLowerCase();
    if (config.lorem_ipsum && lower.includes('lorem ipsum')) return {kept, reason: 'lorem_ipsum'};
    if (config.javascript && lower.includes('javascript')) continue;
    if (config.curly_bracket && line.includes('{')) return {kept, reason: 'curly_bracket'};
    if (config.policy && POLICY.some((p) => lower.includes(p))) continue;
    sentences += Math.max(1, line.match(SENTENCE_END)?.length ?? 0);
    kept.push(line);
  }
  if (sentences < config.min_sentences) return {kept, reason: 'too_few_sentences'};
  return {kept};
}

/** The page rules. Reasons `lorem_ipsum`, `curly_bracket`, `too_few_sentences`. */
export function c4(config: C4Config = C4_DEFAULTS) {
  return (doc: Doc): Verdict => {
    const {reason, kept} = c4Lines(doc.text, config);
    if (reason === 'too_few_sentences')
      return drop(reason, `kept lines hold < ${config.min_sentences} sentences (${kept.length} lines kept)`);
    return reason ? drop(reason) : KEEP;
  };
}

/** C4's line removal as a text fix: the page becomes its kept lines. */
export function c4RemoveLines(config: C4Config = C4_DEFAULTS) {
  return (text: string): string => c4Lines(text, config).kept.join('\n');
}
