import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {Rng} from '../../src/data/rng.js';
import {AdamW} from '../../src/train/adamw.js';

beforeAll(async () => {
  await initBackend();
});

/** PyTorch's AdamW, step by step, in float64. */
function referenceStep(
  p: number[],
  g: number[],
  s: {m: number[]; v: number[]},
  t: number,
  o: {lr: number; b1: number; b2: number; eps: number; wd: number},
): number[] {
  const bc1 = 1 - o.b1 ** t;
  const bc2 = 1 - o.b2 ** t;
  return p.map((x, i) => {
    const decayed = x * (1 - o.lr * o.wd);
    s.m[i] = o.b1 * s.m[i]! + (1 - o.b1) * g[i]!;
    s.v[i] = o.b2 * s.v[i]! + (1 - o.b2) * g[i]! ** 2;
    return decayed - ((o.lr / bc1) * s.m[i]!) / (Math.sqrt(s.v[i]!) / Math.sqrt(bc2) + o.eps);
  });
}

const values = (rng: Rng, n: number) => Array.from({length: n}, () => rng.next() * 2 - 1);

describe('AdamW', () => {
  it('matches PyTorch AdamW in float64 over several steps, decaying matrices only', () => {
    const rng = new Rng(3);
    const w0 = values(rng, 6);
    const b0 = values(rng, 3);
    const w = tf.variable(tf.tensor2d(w0, [2, 3]));
    const b = tf.variable(tf.tensor1d(b0));
    const opt = new AdamW(
      [
        {name: 'dense/kernel', variable: w},
        {name: 'dense/bias', variable: b},
      ],
      {weightDecay: 0.1},
    );
    expect(opt.decayed).toEqual(['dense/kernel']);
    const o = {lr: 0.05, b1: 0.9, b2: 0.999, eps: 1e-8};
    let wRef = w0;
    let bRef = b0;
    const sw = {m: [0, 0, 0, 0, 0, 0], v: [0, 0, 0, 0, 0, 0]};
    const sb = {m: [0, 0, 0], v: [0, 0, 0]};
    for (let t = 1; t <= 5; t++) {
      const gw = values(rng, 6);
      const gb = values(rng, 3);
      // A gradient scale of 0.5 stands for clipping: the reference sees the scaled gradient.
      const scale = tf.scalar(0.5);
      const grads = [tf.tensor2d(gw, [2, 3]), tf.tensor1d(gb)];
      opt.apply(grads, o.lr, scale);
      tf.dispose([scale, ...grads]);
      wRef = referenceStep(
        wRef,
        gw.map((x) => x * 0.5),
        sw,
        t,
        {...o, wd: 0.1},
      );
      bRef = referenceStep(
        bRef,
        gb.map((x) => x * 0.5),
        sb,
        t,
        {...o, wd: 0},
      );
    }
    const close = (actual: tf.Tensor, expected: number[]) => {
      for (const [i, x] of Array.from(actual.dataSync()).entries()) expect(x).toBeCloseTo(expected[i]!, 5);
    };
    close(w, wRef);
    close(b, bRef);
    expect(opt.step).toBe(5);
    opt.dispose();
    tf.dispose([w, b]);
  });

  it('skips a parameter without a gradient, leaving it and its moments untouched', () => {
    const a = tf.variable(tf.ones([2, 2]));
    const c = tf.variable(tf.ones([2, 2]));
    const opt = new AdamW(
      [
        {name: 'a', variable: a},
        {name: 'c', variable: c},
      ],
      {weightDecay: 0.5},
    );
    const g = tf.ones([2, 2]);
    opt.apply([g, undefined], 0.1);
    expect(Array.from(c.dataSync())).toEqual([1, 1, 1, 1]);
    expect(Array.from(a.dataSync())[0]).toBeLessThan(1);
    expect(Array.from(opt.getState().slots[2]!.tensor.dataSync())).toEqual([0, 0, 0, 0]);
    opt.dispose();
    tf.dispose([a, c, g]);
  });

  it('a restored state continues exactly as the original optimizer, and nothing leaks', () => {
    const before = tf.memory().numTensors;
    const rng = new Rng(5);
    const init = values(rng, 8);
    const grads = Array.from({length: 6}, () => values(rng, 8));
    type Snapshot = {step: number; slots: tf.Tensor[]; param: tf.Tensor};
    const run = (from: Snapshot | undefined, start: number, steps: number): Snapshot => {
      const p = tf.tidy(() => tf.variable(from ? from.param : tf.tensor2d(init, [2, 4])));
      const opt = new AdamW([{name: 'p', variable: p}]);
      if (from) opt.setState(from);
      for (let t = start; t < steps; t++) {
        const g = tf.tensor2d(grads[t]!, [2, 4]);
        opt.apply([g], 0.01);
        g.dispose();
      }
      const snapshot = {
        step: opt.step,
        slots: opt.getState().slots.map((s) => tf.clone(s.tensor)),
        param: tf.clone(p),
      };
      opt.dispose();
      p.dispose();
      return snapshot;
    };
    const straight = run(undefined, 0, 6);
    const half = run(undefined, 0, 3);
    const resumed = run(half, 3, 6);
    expect(resumed.step).toBe(6);
    for (const key of ['slots', 'param'] as const) {
      const a = [straight[key]].flat().map((t) => Array.from(t.dataSync()));
      const b = [resumed[key]].flat().map((t) => Array.from(t.dataSync()));
      expect(b).toEqual(a);
    }
    for (const snap of [straight, half, resumed]) tf.dispose([...snap.slots, snap.param]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses a state whose shapes do not match', () => {
    const p = tf.variable(tf.zeros([3]));
    const opt = new AdamW([{name: 'p', variable: p}]);
    const wrong = [tf.zeros([4]), tf.zeros([4])];
    expect(() => opt.setState({step: 1, slots: wrong})).toThrow(/p: shape \[4\] does not match \[3\]/);
    tf.dispose([p, ...wrong]);
    opt.dispose();
  });
});
