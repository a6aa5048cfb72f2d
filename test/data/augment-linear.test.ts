import {describe, expect, it} from 'vitest';
import {tokenize} from '../../src/data/augment/tokens.js';
import {sharedWordNet} from '../../src/data/augment/wordnet.js';
import {AUGMENT_OPS, Augmenter} from '../../src/data/augment.js';
import {cpuSeconds, longRow} from './long-row.js';

// Issue 17 §5: augment was super-linear in row length (random insertion: 125 KB 7.7 s, 1 MB over
// 120 s). Each op now edits a row in one pass; on a 1 MB row each takes well under a CPU-second
// here (0.2-0.5 s), so 5 CPU-seconds is a loose bound that a quadratic op misses by far.
// `npm run bench:augment` prints the times at 0.25, 0.5 and 1 MB.
const BOUND_S = 5;

describe('augment is linear in row length', () => {
  const text = longRow(1_000_000);
  const wordNet = sharedWordNet();
  wordNet.synonyms('film'); // loaded before timing

  for (const op of AUGMENT_OPS) {
    it(`${op} on a 1 MB row in under ${BOUND_S} CPU-seconds`, () => {
      const augmenter = new Augmenter({ops: [op], numAug: 1, wordNet});
      let rows = 0;
      const seconds = cpuSeconds(() => {
        rows = augmenter.augment({id: 'long', text, fields: {}}).length;
      });
      expect(rows).toBe(2);
      expect(seconds).toBeLessThan(BOUND_S);
    });
  }

  it('tokenizing a megabyte of hostile text stays fast (trailing spaces, no spaces at all)', () => {
    for (const hostile of [
      `a few words${' '.repeat(1_000_000)}`,
      'www.'.repeat(250_000),
      'a.'.repeat(500_000),
    ]) {
      expect(cpuSeconds(() => tokenize(hostile))).toBeLessThan(BOUND_S);
    }
  });
});
