import {describe, expect, it} from 'vitest';
import {Rng} from '../../../src/data/rng.js';
import {checkSampling, sampleToken} from '../../../src/models/causal-lm/sampling.js';

const logits = Float32Array.from([1, 3, 2, 0.5, 2.9]);

function counts(options: Parameters<typeof sampleToken>[1], n = 4000): number[] {
  const rng = new Rng(1);
  const out = new Array(logits.length).fill(0);
  for (let i = 0; i < n; i++) out[sampleToken(logits, options, () => rng.next())]++;
  return out;
}

describe('sampleToken', () => {
  it('temperature 0 and top-k 1 are greedy', () => {
    expect(sampleToken(logits, {temperature: 0}, Math.random)).toBe(1);
    expect(counts({topK: 1})).toEqual([0, 4000, 0, 0, 0]);
  });

  it('samples in proportion to softmax(logits / T)', () => {
    const c = counts({temperature: 1}, 20000);
    const z = Array.from(logits, (l) => Math.exp(l));
    const total = z.reduce((a, b) => a + b, 0);
    for (let i = 0; i < z.length; i++) expect(c[i]! / 20000).toBeCloseTo(z[i]! / total, 1);
  });

  it('top-k keeps the k most likely; top-p the smallest set with that much mass', () => {
    const k = counts({topK: 2});
    expect(k[0]! + k[2]! + k[3]!).toBe(0);
    // softmax: 3 → .40, 2.9 → .36, 2 → .15: p = 0.7 needs the first two.
    const p = counts({topP: 0.7});
    expect(p[1]! + p[4]!).toBe(4000);
    expect(p[1]).toBeGreaterThan(0);
    expect(p[4]).toBeGreaterThan(0);
  });

  it('is reproducible from the seed', () => {
    expect(counts({temperature: 0.8}, 50)).toEqual(counts({temperature: 0.8}, 50));
  });

  it('rejects settings out of range, naming them', () => {
    expect(() => checkSampling({temperature: -1})).toThrow(/temperature/);
    expect(() => checkSampling({topK: 1.5})).toThrow(/top-k/);
    expect(() => checkSampling({topP: 0})).toThrow(/top-p/);
  });
});
