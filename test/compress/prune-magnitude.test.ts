import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {
  applyMasks,
  magnitudeMasks,
  maskTensors,
  measuredSparsity,
  prunableWeights,
} from '../../src/compress/prune-magnitude.js';
import {isPruningStep, scheduledSparsity} from '../../src/compress/prune-schedule.js';
import {kitClassifier} from './kit-model.js';

const zeros = (m: Uint8Array) => m.length - m.reduce((s, v) => s + v, 0);

describe('magnitudeMasks', () => {
  const small = {name: 'a', values: Float32Array.from([0.1, -0.2, 0.3, -0.4])};
  const large = {name: 'b', values: Float32Array.from([1, -2, 3, -4, 5, -6])};

  it('global: removes exactly round(s·n) entries, the smallest |w| over all weights', () => {
    const [a, b] = magnitudeMasks([small, large], 0.5);
    expect(zeros(a!) + zeros(b!)).toBe(5);
    expect([...a!]).toEqual([0, 0, 0, 0]);
    expect([...b!]).toEqual([0, 1, 1, 1, 1, 1]);
  });

  it('layer: each weight loses its own share', () => {
    const [a, b] = magnitudeMasks([small, large], 0.5, 'layer');
    expect([...a!]).toEqual([0, 0, 1, 1]);
    expect([...b!]).toEqual([0, 0, 0, 1, 1, 1]);
  });

  it('ties at the threshold still give the exact count; sparsity 0 keeps all', () => {
    const flat = {name: 'c', values: new Float32Array(10).fill(0.5)};
    for (const s of [0.1, 0.35, 0.9]) expect(zeros(magnitudeMasks([flat], s)[0]!)).toBe(Math.round(10 * s));
    expect(zeros(magnitudeMasks([flat], 0)[0]!)).toBe(0);
    expect(() => magnitudeMasks([flat], 1)).toThrow(/sparsity/);
  });
});

describe('scheduledSparsity (Zhu & Gupta)', () => {
  const schedule = {final: 0.8, end: 100};
  it('starts at the initial sparsity, ends at the final one, cubic in between, never decreasing', () => {
    expect(scheduledSparsity(0, schedule)).toBe(0);
    expect(scheduledSparsity(100, schedule)).toBe(0.8);
    expect(scheduledSparsity(500, schedule)).toBe(0.8);
    expect(scheduledSparsity(50, schedule)).toBeCloseTo(0.8 * (1 - 0.5 ** 3), 10);
    let last = -1;
    for (let t = 0; t <= 100; t++) {
      const s = scheduledSparsity(t, {...schedule, frequency: 10});
      expect(s).toBeGreaterThanOrEqual(last);
      last = s;
    }
    expect(scheduledSparsity(15, {...schedule, frequency: 10})).toBe(scheduledSparsity(10, schedule));
  });

  it('masks change at begin, every frequency steps and at end; end 0 is one-shot', () => {
    const s = {final: 0.5, begin: 10, end: 35, frequency: 10};
    const steps = Array.from({length: 50}, (_, t) => t).filter((t) => isPruningStep(t, s));
    expect(steps).toEqual([10, 20, 30, 35]);
    expect(scheduledSparsity(0, {final: 0.5, end: 0})).toBe(0.5);
  });
});

describe('masks on a model', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('prunes kernels and embeddings, never norms, biases or the router; zeros are exact', () => {
    const model = kitClassifier('moe');
    const targets = prunableWeights(model);
    const names = targets.map((w) => w.originalName);
    expect(names).toContain('embed/embeddings');
    expect(names).toContain('block0/ffn/experts/up');
    expect(names.some((n) => /norm|bias|router/.test(n))).toBe(false);
    const before = tf.memory().numTensors;
    const masks = maskTensors(targets, 0.6, 'global');
    applyMasks(targets, masks);
    tf.dispose(masks);
    expect(tf.memory().numTensors).toBe(before);
    const total = targets.reduce((n, w) => n + w.read().size, 0);
    expect(measuredSparsity(targets)).toBeCloseTo(Math.round(0.6 * total) / total, 12);
    model.dispose();
  });
});
