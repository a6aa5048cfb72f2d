import * as tf from '@tensorflow/tfjs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {withComposedOps} from '../../src/backend/native-ops.js';
import {Rng} from '../../src/data/rng.js';
import {AdamW} from '../../src/train/adamw.js';

beforeAll(async () => {
  await initBackend();
});
afterAll(async () => {
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

const loads = async (backend: string) =>
  initBackend({backend}).then(
    () => true,
    () => false,
  );
// On tensorflow the update runs as TensorFlow's training ops (adamw-native.ts), on cpu as tfjs ops.
const BACKENDS: string[] = [];
for (const backend of ['tensorflow', 'cpu']) if (await loads(backend)) BACKENDS.push(backend);

for (const backend of BACKENDS)
  describe(`AdamW on ${backend}`, () => {
    beforeAll(async () => {
      await initBackend({backend});
    });

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

describe.runIf(BACKENDS.includes('tensorflow'))('AdamW as TensorFlow training ops', () => {
  /**
   * 4 steps: decaying and non-decaying parameters, a gradient scale, a missing gradient, and a
   * parameter assigned from outside between steps (as pruning masks do). Returns the parameters and
   * the moments, and how many tensors were left behind.
   */
  const run = () => {
    const before = tf.memory().numTensors;
    const rng = new Rng(11);
    const w = tf.tidy(() => tf.variable(tf.tensor2d(values(rng, 12), [3, 4])));
    const b = tf.tidy(() => tf.variable(tf.tensor1d(values(rng, 4))));
    const opt = new AdamW(
      [
        {name: 'w', variable: w},
        {name: 'b', variable: b},
      ],
      {weightDecay: 0.1},
    );
    for (let t = 1; t <= 4; t++) {
      const grads = [tf.tensor2d(values(rng, 12), [3, 4]), t === 2 ? undefined : tf.tensor1d(values(rng, 4))];
      const scale = tf.scalar(0.25 * t);
      opt.apply(grads, 0.01 * t, t % 2 === 0 ? scale : undefined);
      if (t === 3)
        tf.tidy(() => w.assign(tf.mul(w, tf.tensor2d([1, 0, 1, 0, 1, 1, 0, 0, 1, 1, 1, 1], [3, 4]))));
      tf.dispose([scale, ...grads.filter((g) => g !== undefined)]);
    }
    const out = [w, b, ...opt.getState().slots.map((s) => s.tensor)].map((x) => Array.from(x.dataSync()));
    opt.dispose();
    tf.dispose([w, b]);
    return {out, leaked: tf.memory().numTensors - before};
  };

  it('equals the composed tfjs update to 1e-5 and leaves no tensor behind', async () => {
    await initBackend({backend: 'tensorflow'});
    const fused = run();
    const composed = withComposedOps(run);
    expect(fused.leaked).toBe(0);
    for (const [i, xs] of fused.out.entries()) {
      for (const [j, x] of xs.entries()) expect(Math.abs(x - composed.out[i]![j]!)).toBeLessThan(1e-5);
    }
  });

  it('never changes a value read before an update (the variable is copied, not updated in place)', async () => {
    await initBackend({backend: 'tensorflow'});
    const p = tf.variable(tf.ones([2, 3]));
    const opt = new AdamW([{name: 'p', variable: p}], {weightDecay: 0.1});
    const g = tf.ones([2, 3]);
    opt.apply([g], 0.1);
    const kept = tf.clone(p); // shares the buffer of the TensorFlow variable's last read
    const seen = Array.from(kept.dataSync());
    opt.apply([g], 0.1);
    opt.apply([g], 0.1);
    expect(Array.from(kept.dataSync())).toEqual(seen);
    expect(p.dataSync()[0]).toBeLessThan(seen[0]!);
    opt.dispose();
    tf.dispose([p, g, kept]);
  });
});
