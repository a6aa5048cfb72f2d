import {describe, expect, it} from 'vitest';
import {hash32, Rng} from '../../src/data/rng.js';

describe('Rng', () => {
  it('repeats its sequence for a seed and differs across seeds and keys', () => {
    const take = (rng: Rng) => Array.from({length: 5}, () => rng.next());
    expect(take(new Rng(1))).toEqual(take(new Rng(1)));
    expect(take(new Rng(1))).not.toEqual(take(new Rng(2)));
    expect(take(Rng.forKey(42, 'doc:1'))).toEqual(take(Rng.forKey(42, 'doc:1')));
    expect(take(Rng.forKey(42, 'doc:1'))).not.toEqual(take(Rng.forKey(42, 'doc:2')));
    expect(hash32('doc:1', 42)).not.toBe(hash32('doc:1', 43));
  });

  it('is uniform enough: each of 10 buckets within 3% of 10,000 draws, ints in range', () => {
    const rng = new Rng(9);
    const buckets = new Array(10).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const x = rng.next();
      expect(x >= 0 && x < 1).toBe(true);
      buckets[Math.floor(x * 10)]++;
    }
    for (const n of buckets) expect(Math.abs(n - 10_000)).toBeLessThan(300);
    for (let i = 0; i < 1000; i++) expect(rng.int(7)).toBeLessThan(7);
  });

  it('shuffles a copy into a permutation, and refuses to pick from nothing', () => {
    const items = [1, 2, 3, 4, 5, 6, 7, 8];
    const shuffled = new Rng(3).shuffled(items);
    expect(items).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect([...shuffled].sort()).toEqual(items);
    expect(shuffled).not.toEqual(items);
    expect(() => new Rng(1).pick([])).toThrow(RangeError);
  });
});
