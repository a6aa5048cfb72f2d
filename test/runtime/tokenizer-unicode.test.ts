import {describe, expect, it} from 'vitest';
import {nativeTokenizers} from '../../src/tokenizer/hf-tokenizer.js';
import {UNICODE_CHECKS, type UnicodeCheck, unicodeChunks} from './browser-probe.js';

/**
 * The runtime tokenizer's character classes against the `tokenizers` binding, code point by code
 * point: BERT's normalizer (cased and uncased) and pre-tokenizer on every Unicode scalar value,
 * GPT-2's byte-level split on the BMP and every 7th astral one, each in a context. Chunks are compared whole and only a chunk that differs
 * is checked character by character, so a failure names the characters.
 */
describe('runtime tokenizer, every code point', () => {
  const tk = nativeTokenizers();
  const words = (pieces: Array<[string, unknown]>) => pieces.map(([w]) => w).join('\u0001');
  const lower = tk.bertNormalizer({lowercase: true});
  const cased = tk.bertNormalizer({lowercase: false});
  const bert = tk.bertPreTokenizer();
  const byteLevel = tk.byteLevelPreTokenizer(false, true);
  const native: Record<UnicodeCheck, (s: string) => string> = {
    lowercase: (s) => lower.normalizeString(s),
    cased: (s) => cased.normalizeString(s),
    bertWords: (s) => words(bert.preTokenizeString(`${s}x`)),
    byteLevel: (s) => words(byteLevel.preTokenizeString(s)),
  };

  for (const check of Object.keys(UNICODE_CHECKS) as UnicodeCheck[]) {
    it(`${check} as the binding's`, () => {
      const {run} = UNICODE_CHECKS[check];
      const bad: string[] = [];
      for (const chunk of unicodeChunks(check)) {
        if (native[check](chunk.join('')) === run(chunk.join(''))) continue;
        for (const piece of chunk) if (native[check](piece) !== run(piece)) bad.push(JSON.stringify(piece));
      }
      expect(bad).toEqual([]);
    });
  }
});
