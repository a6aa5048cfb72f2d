import {describe, expect, it} from 'vitest';
import {CharShingler, charShingleJaccard} from '../../../src/data/dedup/char-shingles.js';
import {OnePermutationHasher} from '../../../src/data/dedup/one-permutation.js';
import {fixtureDocs} from '../fixture-docs.js';

function signature(text: string, k = 256): Int32Array {
  const shingler = new CharShingler();
  const n = shingler.shingle(text);
  return new OnePermutationHasher(k).signature(shingler.hashes, n, new Int32Array(k));
}

const agree = (x: Int32Array, y: Int32Array) => x.filter((v, i) => v === y[i]).length / x.length;

describe('one-permutation MinHash with densification', () => {
  it('estimates the Jaccard similarity of long and short texts within a few standard errors', () => {
    const reviews = fixtureDocs().map((d) => d.text);
    for (const [i, text] of reviews.slice(0, 40).entries()) {
      // A copy with its second half replaced, and a ten-word slice with one word changed.
      const half = text.slice(0, text.length / 2) + reviews[i + 100]!.slice(0, text.length / 2);
      const short = text.split(' ').slice(0, 10);
      const shortEdit = [...short.slice(0, 5), 'zebra', ...short.slice(6)];
      for (const [a, b] of [
        [text, half],
        [short.join(' '), shortEdit.join(' ')],
      ] as const) {
        const j = charShingleJaccard(a, b);
        expect(Math.abs(agree(signature(a), signature(b)) - j)).toBeLessThan(
          4 * Math.sqrt((j * (1 - j)) / 256) + 0.12,
        );
      }
    }
  });

  it('is the same for the same shingle set, whatever the order or repeats', () => {
    const a = signature('one two three four five six');
    expect(agree(a, signature('One  two, three four five six!'))).toBe(1);
    expect(agree(a, signature('totally different words here'))).toBeLessThan(0.2);
  });
});
