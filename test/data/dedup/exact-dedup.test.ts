import {describe, expect, it} from 'vitest';
import {DedupStep} from '../../../src/data/dedup/dedup-step.js';
import {ExactDedup} from '../../../src/data/dedup/exact-dedup.js';
import {fixtureDocs} from '../fixture-docs.js';

describe('exact dedup', () => {
  it('finds the 25 exact duplicate rows of the IMDB fixture, keeping the first of each group', () => {
    const step = new DedupStep({mode: 'exact'});
    const docs = fixtureDocs();
    const firstById = new Map<string, string>();
    const seen = new Map<string, string>();
    for (const d of docs) {
      if (!seen.has(d.text)) seen.set(d.text, d.id);
      firstById.set(d.id, seen.get(d.text)!);
    }
    const removed = docs.flatMap((d) => {
      const v = step.apply(d);
      return v.keep ? [] : [[d.id, v.reason, v.detail]];
    });
    expect(removed).toHaveLength(25);
    for (const [id, reason, of] of removed) {
      expect(reason).toBe('exact_duplicate');
      expect(of).toBe(firstById.get(id!));
    }
    const report = step.report();
    expect(report.exact).toMatchObject({removed: 25, clusters: 24, sizes: {'2': 23, '3': 1}});
    expect(report.exact!.largest[0]).toMatchObject({size: 3, removed: expect.any(Array)});
  });

  it('normalization is configurable', () => {
    const folding = new ExactDedup();
    const strict = new ExactDedup({caseFold: false, collapseWhitespace: false});
    for (const [i, t] of ['Great  Movie', 'great movie', 'GREAT MOVIE '].entries()) {
      if (folding.find(t) === -1) folding.remember(i);
      if (strict.find(t) === -1) strict.remember(i);
    }
    expect(folding.size).toBe(1);
    expect(strict.size).toBe(3);
  });
});
