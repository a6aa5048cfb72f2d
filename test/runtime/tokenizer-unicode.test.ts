import {describe, expect, it} from 'vitest';
import {nativeTokenizers} from '../../src/models/tokenizer/hf-tokenizer.js';
import {bertNormalize, bertPreTokenize} from '../../src/runtime/tokenizer/bert-text.js';
import {byteLevelWords} from '../../src/runtime/tokenizer/byte-level-bpe.js';
import {ALL_CODE_POINTS, codePointChunks} from './code-point-chunks.js';

/**
 * The runtime tokenizer's character classes against the `tokenizers` binding, code point by code
 * point: every one for BERT's normalizer and pre-tokenizer, and for GPT-2's byte-level split the
 * whole BMP plus every 7th astral code point. Chunks are compared whole and only a chunk that
 * differs is checked character by character, so a failure names the code points.
 */
const ALL = ALL_CODE_POINTS;

function differing(
  points: readonly number[],
  context: (c: string) => string,
  native: (s: string) => string,
  js: (s: string) => string,
): string[] {
  const bad: string[] = [];
  for (const chunk of codePointChunks(points, context)) {
    if (native(chunk.join('')) === js(chunk.join(''))) continue;
    for (const piece of chunk) {
      if (native(piece) !== js(piece)) bad.push(JSON.stringify(piece));
    }
  }
  return bad;
}

describe('runtime tokenizer, every code point', () => {
  const tk = nativeTokenizers();

  for (const lowercase of [true, false]) {
    it(`BertNormalizer (lowercase ${lowercase}) as the binding's`, () => {
      const native = tk.bertNormalizer({lowercase});
      const options = {cleanText: true, handleChineseChars: true, stripAccents: null, lowercase};
      const bad = differing(
        ALL,
        (c) => `x${c}`,
        (s) => native.normalizeString(s),
        (s) => bertNormalize(s, options),
      );
      expect(bad).toEqual([]);
    });
  }

  it("BertPreTokenizer as the binding's", () => {
    const native = tk.bertPreTokenizer();
    const words = (pieces: Array<[string, unknown]>) => pieces.map(([w]) => w).join('\u0001');
    const bad = differing(
      ALL,
      (c) => `x${c}`,
      (s) => words(native.preTokenizeString(`${s}x`)),
      (s) => bertPreTokenize(`${s}x`).join('\u0001'),
    );
    expect(bad).toEqual([]);
  });

  it("the byte-level split as the binding's", () => {
    const native = tk.byteLevelPreTokenizer(false, true);
    const options = {addPrefixSpace: false, useRegex: true};
    const points = ALL.filter((cp) => cp < 0x10000 || cp % 7 === 0);
    const bad = differing(
      points,
      (c) => `a${c} ${c}1${c}\n`,
      (s) =>
        native
          .preTokenizeString(s)
          .map(([w]) => w)
          .join('\u0001'),
      (s) => byteLevelWords(s, options).join('\u0001'),
    );
    expect(bad).toEqual([]);
  });
});
