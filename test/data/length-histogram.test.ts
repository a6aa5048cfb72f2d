import {describe, expect, it} from 'vitest';
import {LengthHistogram} from '../../src/data/length-histogram.js';
import {Rng} from '../../src/data/rng.js';

/** Nearest-rank percentile of a sorted list. */
const nearestRank = (sorted: number[], q: number) => sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1];

describe('LengthHistogram', () => {
  it('gives exact nearest-rank percentiles for lengths under 4096', () => {
    const rng = new Rng(3);
    const values = Array.from({length: 5001}, () => rng.int(4000));
    const h = new LengthHistogram();
    for (const v of values) h.add(v);
    const sorted = [...values].sort((a, b) => a - b);
    const s = h.summary();
    expect([s.min, s.p5, s.p50, s.p95, s.max]).toEqual([
      sorted[0],
      nearestRank(sorted, 0.05),
      nearestRank(sorted, 0.5),
      nearestRank(sorted, 0.95),
      sorted[sorted.length - 1],
    ]);
    expect(s.mean).toBeCloseTo(values.reduce((a, b) => a + b) / values.length, 1);
  });

  it('is within 1% above 4096, and never beyond the largest length', () => {
    const rng = new Rng(4);
    const values = Array.from({length: 3000}, () => 4096 + rng.int(2_000_000));
    const h = new LengthHistogram();
    for (const v of values) h.add(v);
    const sorted = [...values].sort((a, b) => a - b);
    for (const q of [0.05, 0.5, 0.95, 1]) {
      const exact = nearestRank(sorted, q);
      expect(Math.abs(h.quantile(q) - exact) / exact).toBeLessThan(0.01);
      expect(h.quantile(q)).toBeLessThanOrEqual(sorted[sorted.length - 1]);
    }
  });

  it('reports zeros when empty', () => {
    expect(new LengthHistogram().summary()).toEqual({min: 0, p5: 0, p50: 0, p95: 0, max: 0, mean: 0});
  });
});
