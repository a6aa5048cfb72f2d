import {describe, expect, it} from 'vitest';
import {candidateProbability, optimalLshParams} from '../../../src/data/dedup/lsh-params.js';

describe('optimalLshParams', () => {
  it('matches datasketch optimal_param at even weights: 9 bands x 13 rows for t=0.8, 128 perms', () => {
    expect(optimalLshParams(0.8, 128)).toMatchObject({bands: 9, rows: 13});
    expect(optimalLshParams(0.5, 128)).toMatchObject({bands: 25, rows: 5});
  });

  it('weighting misses higher trades more candidates for recall near the threshold', () => {
    const even = optimalLshParams(0.8, 128);
    const recall = optimalLshParams(0.8, 128, {falsePositive: 0.1, falseNegative: 0.9});
    expect(recall).toMatchObject({bands: 14, rows: 9});
    expect(candidateProbability(0.85, recall)).toBeGreaterThan(0.97);
    expect(candidateProbability(0.85, even)).toBeLessThan(0.7);
    expect(recall.falseNegative).toBeLessThan(even.falseNegative);
    expect(recall.falsePositive).toBeGreaterThan(even.falsePositive);
  });

  it('never uses more rows than permutations, and rejects bad input', () => {
    for (const t of [0.3, 0.6, 0.9]) {
      for (const n of [16, 64, 256]) {
        const p = optimalLshParams(t, n);
        expect(p.bands * p.rows).toBeLessThanOrEqual(n);
      }
    }
    expect(() => optimalLshParams(1, 128)).toThrow(/between 0 and 1/);
    expect(() => optimalLshParams(0.8, 1)).toThrow(/num-perm/);
  });
});
