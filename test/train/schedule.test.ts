import {describe, expect, it} from 'vitest';
import {learningRateAt} from '../../src/train/schedule.js';

describe('learningRateAt', () => {
  const base = {lr: 1e-3, warmupSteps: 10, totalSteps: 110};

  it('warms up linearly to the peak', () => {
    expect(learningRateAt(1, base)).toBeCloseTo(1e-4, 12);
    expect(learningRateAt(5, base)).toBeCloseTo(5e-4, 12);
    expect(learningRateAt(10, base)).toBeCloseTo(1e-3, 12);
  });

  it('cosine falls from the peak to the floor, half way at the middle, and stays there', () => {
    expect(learningRateAt(60, base)).toBeCloseTo(1e-4 + 0.5 * 9e-4, 12);
    expect(learningRateAt(110, base)).toBeCloseTo(1e-4, 12);
    expect(learningRateAt(500, base)).toBeCloseTo(1e-4, 12);
    for (let s = 11; s < 110; s++) expect(learningRateAt(s + 1, base)).toBeLessThan(learningRateAt(s, base));
  });

  it('linear and constant decay, and a floor of zero', () => {
    expect(learningRateAt(60, {...base, decay: 'linear', minLrRatio: 0})).toBeCloseTo(5e-4, 12);
    expect(learningRateAt(110, {...base, decay: 'linear', minLrRatio: 0})).toBe(0);
    expect(learningRateAt(100, {...base, decay: 'constant'})).toBe(1e-3);
    expect(learningRateAt(1, {lr: 0.1, totalSteps: 1})).toBeCloseTo(0.01, 12);
  });
});
