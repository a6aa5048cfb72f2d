import {type Doc, drop, KEEP, type Verdict} from '../doc.js';
import {pct} from './default-rules.js';
import {profileOf, setProfileTables} from './text-profile.js';

export interface WordSaladConfig {
  /** Drop when at least this share of the adjacent function-word pairs are pairs English prose does not write… */
  max_rare_pair_ratio: number;
  /** …and at least this many such pairs occur. */
  min_rare_pairs: number;
}
export const WORD_SALAD_DEFAULTS: WordSaladConfig = {max_rare_pair_ratio: 0.3, min_rare_pairs: 2};

/** The closed-class words whose order the rule checks: determiners, pronouns, prepositions, conjunctions, auxiliaries. */
export const FUNCTION_WORDS = (
  'the a an this that these those my your his her its our their i you he she it we they me him us ' +
  'them of to in on at by for with from into about over after than as and or but if so because when ' +
  'while is was are were be been has have had do does did will would can could should may must not ' +
  'no there which who what all some any more most only just also very then up out'
).split(' ');

// Bit (a·n + b) set: "a b" is written less than a tenth as often as chance would write it in the
// 32M-token English of IMDB reviews, Reuters stories and State of the Union addresses (`the of`,
// `a the`, `of is`, `and but`), and chance would have written it at least 50 times. Printed by
// `npx tsx bench/clean-quality-word-pairs.ts`. Words in random order make such pairs about half the
// time two function words meet; prose, rarely.
const RARE_PAIRS_BASE64 = [
  '//9//+9v/+/9jfn//+///+3/P/2pf7h3uC9+XMOgV4I0H7IBAAAAAXACAAAAFgAAAAIACAAWAAgUAAAAAAAAwAIAAQBAQAAA',
  'AADYACLwDiy4BEAAABlABAYAAQEAAADgw73DfbHrHgS/ACIAEQgAAEACAAAABOEK54GCSwAAALABROAZWDABAAAAPoQL3AcL',
  'IAEAAMD//9/f/3sVAfgHBnDsAAAAEAIAAgAf7B3eC0wEAGAHeAOIwDOAAAAAAACAEVwPAAAAAAACgA/hAukBggEAAADwoVzg',
  'vdgwBAAMAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAaMP7/PX7vwCgAgBteJ61vvWXAEAA',
  '4A0FIob//0KADgAAIQAA8D+HABAAgDI8BRD+Q0ABIABQhvMQw38YCAAEAAKwPCr4nw8AiABAG5ZHCP7jAAANACjDP5DhPwYQ',
  'AAAAAXgAEkgAAAAAAKAIAQAAaAAAAAAAACAAAAAAAAAAAAAAHAMBBgAAAAAAAAAAQAEAAAAAAAAAACA+gQEABkAAAAABQAcA',
  'AAAAAAAAAADgAAAAAAAAAAAEAByAAAAAAAAAAIHAgmsAAAAAAAAAAHAAAAAAAAAAAAgACgYAAAAAAACA8GABJAAAAAAAABAA',
  'AAgAAAAAQECoAUSB//tBAAAAEGEACOBfHggAIAAVAAAB7McBAQAAAAAAAIBJAAAAAAC0AAAE8A8HBAAAgAsAAAAuAQAAAAAQ',
  'hABAgyUMIAAEAAgQAgrwggMGwAAAAAIAAZQAAAAAAABAAAAAAAAAAAAAAQgAAAAAAAAAAAAAAQCAAAAAAHAhAAAQQHAAAAgA',
  'AgQAKAcLjgAAAAAAAIAAAMABAAAAgAAAIAQAGAAAAAACAACEAAEBAAAAYAKAAAAAAAAAAAAMABAAAAAEAAAAAAAgAACggScw',
  'LACwIQDgNlhwCQAAABIEAAQAAAAAAAAAAAAAQMABBAAgALAAADAAKIAAAAYAAAAAQoIFEAAAAAAAAAAAAAAAAEAAPAgXUAEE',
  'TAEACIAFAALKQIABAAAAgABAAAAAAA2AIAA2AAgAAgsAAAAAAAAAAAAAAQAAAAAAAK4QACAgAAAAAAAAAAAABQAAAABgA6jA',
  'P7DgEgABAAAAAAAAAAAAAAAAAEACAAAASAAAAAAAAAAAAAANAAAAAA==',
].join('');
setProfileTables({functionWords: FUNCTION_WORDS, rareFunctionPair: Buffer.from(RARE_PAIRS_BASE64, 'base64')});

/**
 * Words in random order: real words, none of the grammar. English-only evidence: other languages
 * bring no English function-word pairs and are kept; so are texts too short to bring a few.
 * Reason `word_salad`.
 */
export function wordSalad(config: WordSaladConfig = WORD_SALAD_DEFAULTS) {
  return (doc: Doc): Verdict => {
    // Counted on the shared profile: pairs of whitespace-separated tokens that are function words
    // (leading "( and trailing .,;:!?") allowed; punctuation after the first ends the pair).
    const {functionPairs: pairs, rareFunctionPairs: rare} = profileOf(doc);
    if (rare < config.min_rare_pairs) return KEEP;
    const ratio = rare / pairs;
    return ratio >= config.max_rare_pair_ratio
      ? drop(
          'word_salad',
          `${rare} of ${pairs} function-word pairs (${pct(ratio)}) are ones English does not write`,
        )
      : KEEP;
  };
}
