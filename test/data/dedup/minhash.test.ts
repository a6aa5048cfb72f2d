import {describe, expect, it} from 'vitest';
import {estimateJaccard, MinHasher} from '../../../src/data/dedup/minhash.js';
import {Shingler} from '../../../src/data/dedup/shingles.js';
import {fixtureDocs} from '../fixture-docs.js';
import {nearCopy, seeded, shingleJaccard} from '../near-copies.js';

describe('MinHash', () => {
  const shingler = new Shingler(5);
  const hasher = new MinHasher(128);
  const signature = (text: string) =>
    hasher.signature(shingler.hashes, shingler.shingle(text), new Int32Array(128)).slice();

  it('estimates Jaccard similarity without bias, within the binomial error', () => {
    const rand = seeded(3);
    const docs = fixtureDocs().slice(0, 400);
    let bias = 0;
    let outside = 0;
    for (const [i, doc] of docs.entries()) {
      const copy = nearCopy(doc.text, 0.02 + (i % 8) * 0.02, rand);
      const j = shingleJaccard(doc.text, copy);
      const est = estimateJaccard(signature(doc.text), signature(copy));
      bias += est - j;
      if (Math.abs(est - j) > 3 * Math.sqrt((j * (1 - j)) / 128) + 0.01) outside++;
    }
    expect(Math.abs(bias / docs.length)).toBeLessThan(0.01);
    expect(outside / docs.length).toBeLessThan(0.02); // 3 sigma: ~0.3% expected
  });

  it('ignores case, punctuation and spacing; distinct reviews are dissimilar', () => {
    const [a, b] = fixtureDocs();
    const text = a!.text;
    expect(estimateJaccard(signature(text), signature(text.toUpperCase().replace(/[.,!?]/g, ' ')))).toBe(1);
    expect(estimateJaccard(signature(a!.text), signature(b!.text))).toBeLessThan(0.1);
  });

  it('short texts are one shingle; empty text has none', () => {
    expect(shingler.shingle('two words')).toBe(1);
    expect(shingler.shingle(' ,.; ')).toBe(0);
    expect(shingler.shingle('one two three four five six')).toBe(2);
    expect(shingler.shingle('日本語のテキスト')).toBe(4); // 8 characters, 5-grams
  });
});
