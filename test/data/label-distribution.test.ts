import {describe, expect, it} from 'vitest';
import {formatLabelDistribution, labelDistribution} from '../../src/data/label-distribution.js';

describe('labelDistribution', () => {
  it('gives KL from uniform as ln K minus the entropy, in nats', () => {
    const d = labelDistribution({b: 1, a: 3});
    expect(d.total).toBe(4);
    expect(Object.keys(d.counts)).toEqual(['a', 'b']); // largest first
    expect(d.shares).toEqual({a: 0.75, b: 0.25});
    const entropy = -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25));
    expect(d.klFromUniform).toBeCloseTo(Math.log(2) - entropy, 12);
    expect(d.imbalanceRatio).toBe(3);
  });

  it('is 0 when balanced and ln K when one label has everything', () => {
    expect(
      labelDistribution(
        new Map([
          ['x', 5],
          ['y', 5],
          ['z', 5],
        ]),
      ).klFromUniform,
    ).toBe(0);
    const skewed = labelDistribution({x: 9, y: 0, z: 0});
    expect(skewed.klFromUniform).toBeCloseTo(Math.log(3), 12);
    expect(skewed.imbalanceRatio).toBe(Number.POSITIVE_INFINITY);
  });

  it('handles no rows and formats one line', () => {
    expect(labelDistribution({})).toMatchObject({total: 0, klFromUniform: 0, imbalanceRatio: 1});
    expect(formatLabelDistribution(labelDistribution({pos: 3, neg: 1}))).toBe(
      'pos 3 (75.0%) · neg 1 (25.0%) · KL 0.131 nats',
    );
  });
});
