import {describe, expect, it} from 'vitest';
import {
  classificationMetrics,
  formatClassificationMetrics,
} from '../../../src/models/classify/classification-metrics.js';

describe('classificationMetrics', () => {
  it('matches a hand count: accuracy, per-class precision/recall/F1, macro-F1, confusion', () => {
    // true:      a a a b b c
    // predicted: a a b b c c
    const m = classificationMetrics([0, 0, 1, 1, 2, 2], [0, 0, 0, 1, 1, 2], ['a', 'b', 'c']);
    expect(m.accuracy).toBeCloseTo(4 / 6);
    expect(m.confusion).toEqual([
      [2, 1, 0],
      [0, 1, 1],
      [0, 0, 1],
    ]);
    expect(m.per_class.a).toEqual({precision: 1, recall: 2 / 3, f1: 0.8, support: 3});
    expect(m.per_class.b!.precision).toBeCloseTo(0.5);
    expect(m.per_class.c!.f1).toBeCloseTo(2 / 3);
    expect(m.macro_f1).toBeCloseTo((0.8 + 0.5 + 2 / 3) / 3);
    expect(formatClassificationMetrics(m)).toMatch(/accuracy 0\.6667 {2}macro_f1 0\.6556/);
  });

  it('counts 0/0 as 0 and leaves classes absent from both sides out of the macro mean', () => {
    const m = classificationMetrics([0, 0], [0, 0], ['a', 'b']);
    expect(m.per_class.b).toEqual({precision: 0, recall: 0, f1: 0, support: 0});
    expect(m.macro_f1).toBe(1);
  });
});
