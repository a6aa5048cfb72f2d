import {describe, expect, it} from 'vitest';
import {lineChart, thin} from '../../src/workflows/svg-charts.js';

describe('thin', () => {
  it('keeps at most max + 1 points of a long curve, each still a [step, value] pair, first and last kept', () => {
    const points = Array.from({length: 1000}, (_, i) => [i + 1, 1 / (i + 1)] as [number, number]);
    const kept = thin(points, 400);
    expect(kept).toHaveLength(401);
    expect(kept.every((p) => Array.isArray(p) && p.length === 2)).toBe(true);
    expect(kept[0]).toEqual([1, 1]);
    expect(kept.at(-1)).toEqual([1000, 0.001]);
    // A chart of a long training run (past 400 steps) draws.
    expect(
      lineChart({title: 'Loss', xLabel: 'step', yLabel: 'loss', series: [{name: 'loss', points: kept}]}),
    ).toContain('<polyline');
  });
  it('returns a short curve as it is', () => {
    expect(thin([[1, 2] as [number, number]], 400)).toEqual([[1, 2]]);
  });
});
