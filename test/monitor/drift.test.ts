import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {
  categoricalReference,
  DRIFT_REFERENCE_FILE,
  type DriftReference,
  DriftWindow,
  loadDriftReference,
  numericReference,
  psi,
  saveDriftReference,
  tokenStatistics,
} from '../../src/monitor/index.js';

describe('population stability index', () => {
  it('is 0 for the same distribution, symmetric, and large for a real shift', () => {
    expect(psi([0.2, 0.3, 0.5], [20, 30, 50])).toBeCloseTo(0, 12);
    expect(psi([0.5, 0.5], [0.9, 0.1])).toBeCloseTo(psi([0.9, 0.1], [0.5, 0.5]), 12);
    // (0.9 − 0.5)·ln(0.9/0.5) + (0.1 − 0.5)·ln(0.1/0.5) = 0.879
    expect(psi([0.5, 0.5], [0.9, 0.1])).toBeCloseTo(0.8789, 3);
    expect(psi([0.5, 0.5], [0.52, 0.48])).toBeLessThan(0.01);
    expect(psi([1, 0], [0, 1])).toBeGreaterThan(5); // empty bins are floored, not infinite
    expect(() => psi([1], [1, 2])).toThrow(/bins/);
  });
});

describe('drift reference and window', () => {
  const lengths = Array.from({length: 1000}, (_, i) => 10 + (i % 50));

  it('bins a numeric statistic at its deciles, merging repeated edges', () => {
    const ref = numericReference(lengths);
    expect(ref.edges.length).toBe(9);
    expect(ref.shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    for (const share of ref.shares) expect(share).toBeCloseTo(0.1, 1);
    expect(numericReference([0, 0, 0, 0]).edges).toEqual([0]);
    expect(categoricalReference(['a', 'b', 'b', 'x'], ['a', 'b']).shares).toEqual([0.25, 0.5, 0.25]);
  });

  it('has no drift on traffic like the reference, and a PSI above 0.2 when inputs get longer', () => {
    const reference: DriftReference = {
      version: 1,
      source: 'test',
      rows: lengths.length,
      statistics: {
        input_length: numericReference(lengths),
        predicted_label: categoricalReference(['a', 'b'], ['a', 'b']),
      },
    };
    const window = new DriftWindow(reference, 200);
    for (const v of lengths.slice(0, 500)) window.observe('input_length', v);
    window.observe('unknown_statistic', 3);
    const calm = window.drift();
    expect(calm.input_length!.observed).toBe(200);
    expect(calm.input_length!.psi).toBeLessThan(0.1);
    expect(calm.predicted_label).toBeUndefined();
    // The ring keeps the last 200: longer inputs replace the old ones entirely.
    for (let i = 0; i < 200; i++) window.observe('input_length', 100 + i);
    const shifted = window.drift();
    expect(shifted.input_length!.psi).toBeGreaterThan(0.2);
    expect(shifted.input_length!.mean).toBeCloseTo(199.5, 6);
    for (let i = 0; i < 200; i++) window.observe('predicted_label', 'a');
    expect(window.drift().predicted_label!.psi).toBeGreaterThan(0.2);
  });

  it('counts unknown tokens per input', () => {
    expect(tokenStatistics([1, 5, 1, 7], 1)).toEqual({length: 4, oovRate: 0.5});
    expect(tokenStatistics([], 1)).toEqual({length: 0, oovRate: 0});
    expect(tokenStatistics([3, 4], undefined)).toEqual({length: 2, oovRate: 0});
  });

  it('saves and loads a reference; a missing file is no reference, a malformed one an error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dsk-drift-'));
    try {
      expect(await loadDriftReference(dir)).toBeUndefined();
      const reference: DriftReference = {
        version: 1,
        source: 'test',
        rows: 4,
        statistics: {oov_rate: numericReference([0, 0, 0.1, 0.2])},
      };
      await saveDriftReference(dir, reference);
      expect(await loadDriftReference(dir)).toEqual(reference);
      await writeFile(join(dir, DRIFT_REFERENCE_FILE), JSON.stringify({...reference, version: 2}));
      await expect(loadDriftReference(dir)).rejects.toThrow(/not a version 1 drift reference/);
      await writeFile(join(dir, DRIFT_REFERENCE_FILE), '{');
      await expect(loadDriftReference(dir)).rejects.toThrow(/is not JSON/);
    } finally {
      await rm(dir, {recursive: true, force: true});
    }
  });
});
