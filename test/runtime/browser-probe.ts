// The checks of the tokenizer's character-class steps over every code point: run in Node against
// the `tokenizers` binding (tokenizer-unicode.test.ts), and bundled into a page to run in
// Chromium's Unicode against Node's results (browser.test.ts).
import {bertNormalize, bertPreTokenize} from '../../src/runtime/tokenizer/bert-text.js';
import {byteLevelWords} from '../../src/runtime/tokenizer/byte-level-bpe.js';
import {ALL_CODE_POINTS, codePointChunks} from './code-point-chunks.js';

const bert = (lowercase: boolean) => ({
  cleanText: true,
  handleChineseChars: true,
  stripAccents: null,
  lowercase,
});

/**
 * Each check: the code points, the context each is put in, and the step the runtime runs on it.
 * The byte-level split takes the BMP and every 7th astral code point (the binding returns its
 * words slowly: all of them take ~30 s).
 */
export const UNICODE_CHECKS = {
  lowercase: {
    points: ALL_CODE_POINTS,
    context: (c: string) => `x${c}`,
    run: (s: string) => bertNormalize(s, bert(true)),
  },
  cased: {
    points: ALL_CODE_POINTS,
    context: (c: string) => `x${c}`,
    run: (s: string) => bertNormalize(s, bert(false)),
  },
  bertWords: {
    points: ALL_CODE_POINTS,
    context: (c: string) => `x${c}`,
    run: (s: string) => bertPreTokenize(`${s}x`).join('\u0001'),
  },
  byteLevel: {
    points: ALL_CODE_POINTS.filter((cp) => cp < 0x10000 || cp % 7 === 0),
    context: (c: string) => `a${c} ${c}1${c}\n`,
    run: (s: string) => byteLevelWords(s, {addPrefixSpace: false, useRegex: true}).join('\u0001'),
  },
};
export type UnicodeCheck = keyof typeof UNICODE_CHECKS;

/** Each check's code points in chunks, each in its context. */
export function unicodeChunks(check: UnicodeCheck): string[][] {
  return codePointChunks(UNICODE_CHECKS[check].points, UNICODE_CHECKS[check].context);
}

/** Per check, the indices of chunks whose output differs from `expected` (the output per chunk). */
export function differingChunks(expected: Record<UnicodeCheck, string[]>): Record<UnicodeCheck, number[]> {
  const out = {} as Record<UnicodeCheck, number[]>;
  for (const check of Object.keys(UNICODE_CHECKS) as UnicodeCheck[]) {
    const {run} = UNICODE_CHECKS[check];
    out[check] = unicodeChunks(check).flatMap((chunk, i) =>
      run(chunk.join('')) === expected[check][i] ? [] : [i],
    );
  }
  return out;
}
