import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {distillationLoss, softKl} from '../../src/train/distill-loss.js';
import {sparseCrossEntropy} from '../../src/train/losses.js';

beforeAll(async () => {
  await initBackend();
});

const student = () =>
  tf.tensor2d([
    [1.0, -0.5, 2.0],
    [0.3, 0.1, -1.2],
    [-2.0, 1.5, 0.4],
  ]);
const teacher = () =>
  tf.tensor2d([
    [2.5, -1.0, 0.5],
    [0.0, 1.0, -0.5],
    [-1.0, 2.0, 1.0],
  ]);
const labels = () => tf.tensor1d([2, 0, 1], 'int32');
const value = (t: tf.Tensor) => t.dataSync()[0]!;

describe('distillationLoss', () => {
  it('has a zero KL term when the student equals the teacher, at any temperature', () => {
    for (const temperature of [0.5, 1, 2, 5]) {
      const loss = distillationLoss(teacher(), teacher(), labels(), {temperature, alpha: 1});
      expect(Math.abs(value(loss))).toBeLessThan(1e-6);
    }
    // …and a positive one when they differ.
    expect(value(distillationLoss(student(), teacher(), labels(), {alpha: 1}))).toBeGreaterThan(0.01);
  });

  it('is plain cross-entropy on the labels at alpha 0', () => {
    const loss = distillationLoss(student(), teacher(), labels(), {alpha: 0, temperature: 3});
    expect(value(loss)).toBeCloseTo(value(sparseCrossEntropy(student(), labels())), 6);
  });

  it('scales the KL term by T² and mixes the two terms by alpha', () => {
    for (const temperature of [1, 2, 4]) {
      const kl = value(tf.mean(softKl(student(), teacher(), temperature)));
      const soft = value(distillationLoss(student(), teacher(), labels(), {temperature, alpha: 1}));
      expect(soft).toBeCloseTo(temperature * temperature * kl, 5);
      const ce = value(sparseCrossEntropy(student(), labels()));
      const mixed = value(distillationLoss(student(), teacher(), labels(), {temperature, alpha: 0.3}));
      expect(mixed).toBeCloseTo(0.3 * soft + 0.7 * ce, 5);
    }
  });

  it('matches a hand-computed KL(p_t ‖ p_s)', () => {
    const s = [0.2, -0.4];
    const t = [1.0, 0.0];
    const softmax = (x: number[]) => {
      const e = x.map((v) => Math.exp(v / 2));
      const z = e[0]! + e[1]!;
      return e.map((v) => v / z);
    };
    const [ps, pt] = [softmax(s), softmax(t)];
    const kl = pt[0]! * Math.log(pt[0]! / ps[0]!) + pt[1]! * Math.log(pt[1]! / ps[1]!);
    const loss = distillationLoss(tf.tensor2d([s]), tf.tensor2d([t]), tf.tensor1d([0], 'int32'), {
      temperature: 2,
      alpha: 1,
    });
    expect(value(loss)).toBeCloseTo(4 * kl, 5);
  });

  it('has the gradient finite differences give, with respect to the student logits', () => {
    const options = {temperature: 2, alpha: 0.6, labelMask: tf.tensor1d([1, 0, 1])};
    const f = (s: tf.Tensor) => distillationLoss(s, teacher(), labels(), options);
    const grad = tf.grad(f)(student()).arraySync() as number[][];
    const base = student().arraySync() as number[][];
    const h = 1e-2;
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        const plus = base.map((r) => [...r]);
        const minus = base.map((r) => [...r]);
        plus[i]![j]! += h;
        minus[i]![j]! -= h;
        const numeric = (value(f(tf.tensor2d(plus))) - value(f(tf.tensor2d(minus)))) / (2 * h);
        expect(grad[i]![j]!).toBeCloseTo(numeric, 3);
      }
    }
  });

  it('averages the label term over labelled rows only: unlabelled rows teach through the teacher', () => {
    const mask = tf.tensor1d([1, 0, 0]);
    const ceFirst = value(sparseCrossEntropy(student().slice([0, 0], [1, 3]), tf.tensor1d([2], 'int32')));
    const pureCe = distillationLoss(student(), teacher(), labels(), {alpha: 0, labelMask: mask});
    expect(value(pureCe)).toBeCloseTo(ceFirst, 5);
    const none = distillationLoss(student(), teacher(), labels(), {alpha: 0, labelMask: tf.zeros([3])});
    expect(value(none)).toBe(0);
    const soft = value(distillationLoss(student(), teacher(), labels(), {alpha: 1}));
    const softMasked = value(distillationLoss(student(), teacher(), labels(), {alpha: 1, labelMask: mask}));
    expect(softMasked).toBeCloseTo(soft, 6);
  });

  it('rejects a temperature ≤ 0 or alpha outside [0, 1], and leaks no tensors', () => {
    expect(() => distillationLoss(student(), teacher(), labels(), {temperature: 0})).toThrow(/temperature/);
    expect(() => distillationLoss(student(), teacher(), labels(), {alpha: 1.5})).toThrow(/alpha/);
    const [s, t, y] = [student(), teacher(), labels()];
    const before = tf.memory().numTensors;
    distillationLoss(s, t, y).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
