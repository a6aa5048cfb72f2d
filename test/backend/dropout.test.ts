import * as tf from '@tensorflow/tfjs';
import {afterEach, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {dropout, dropoutSeed, withDropoutSeed} from '../../src/backend/dropout.js';
import {canCaptureSteps, recordStep} from '../../src/backend/step-record.js';
import {buildClassifier, DEFAULT_CLASSIFIER_CONFIG} from '../../src/models/text-classifier/classifier.js';

// Dropout masks drawn by TensorFlow from a step's seed (src/backend/dropout.ts), on tfjs-node.
let native = false;
const SHAPE = [200, 500];
const RATE = 0.3;

beforeAll(async () => {
  native = (await initBackend()).name === 'tensorflow';
});

afterEach(() => {
  expect(tf.memory().numTensors).toBeLessThan(1000);
});

/** The masks of `calls` dropouts on ones of SHAPE under one step seed, as arrays. */
function masks(stepSeed: number, calls = 1, micro = 0): Float32Array[] {
  const seed = dropoutSeed(stepSeed, micro);
  try {
    return withDropoutSeed(seed, () =>
      Array.from({length: calls}, () =>
        tf.tidy(() => dropout(tf.ones(SHAPE), RATE).dataSync() as Float32Array),
      ),
    );
  } finally {
    seed?.dispose();
  }
}

const same = (a: Float32Array, b: Float32Array) => a.every((v, i) => v === b[i]);

describe('dropout from a step seed', () => {
  it('draws the same masks for the same seed and other masks for another step, micro-batch or layer', (ctx) => {
    if (!native) ctx.skip();
    const [a1, a2] = masks(11, 2);
    const [b1] = masks(11);
    const [c1] = masks(12);
    const [d1] = masks(11, 1, 1);
    expect(same(a1!, b1!)).toBe(true);
    expect(same(a1!, c1!)).toBe(false);
    expect(same(a1!, a2!)).toBe(false);
    expect(same(a1!, d1!)).toBe(false);
    // Micro-batch 1's first dropout is not micro-batch 0's second.
    expect(same(a2!, d1!)).toBe(false);
  });

  it('keeps 1 − rate of the elements, scaled by 1/(1 − rate), so the mean is unchanged', (ctx) => {
    if (!native) ctx.skip();
    const [mask] = masks(5);
    const n = mask!.length;
    const kept = mask!.filter((v) => v !== 0);
    // 100,000 draws: the kept fraction's standard deviation is 0.0014, the mean's 0.0031.
    expect(Math.abs(kept.length / n - (1 - RATE))).toBeLessThan(0.01);
    for (const v of kept.slice(0, 100)) expect(v).toBeCloseTo(1 / (1 - RATE), 6);
    const mean = mask!.reduce((s, v) => s + v, 0) / n;
    expect(Math.abs(mean - 1)).toBeLessThan(0.02);
  });

  it('passes gradients through the kept elements only', (ctx) => {
    if (!native) ctx.skip();
    const seed = dropoutSeed(3)!;
    const x = tf.ones([50, 40]);
    const {value, grad: grads} = withDropoutSeed(seed, () =>
      tf.valueAndGrad((t: tf.Tensor) => tf.sum(dropout(t, RATE)))(x),
    );
    const y = withDropoutSeed(seed, () => dropout(x, RATE));
    expect(Array.from(grads.dataSync())).toEqual(Array.from(y.dataSync()));
    expect(value.dataSync()[0]).toBeCloseTo(tf.sum(y).dataSync()[0]!, 2);
    tf.dispose([seed, x, value, grads, y]);
  });

  it('draws from tf.dropout without a seed in scope, and returns x for rate 0', () => {
    const x = tf.ones([100, 100]);
    const y = dropout(x, 0.5);
    const kept = (y.dataSync() as Float32Array).filter((v) => v !== 0).length / 10_000;
    expect(Math.abs(kept - 0.5)).toBeLessThan(0.05);
    expect(dropout(x, 0)).toBe(x);
    tf.dispose([x, y]);
  });

  it('is a TensorFlow op in training and absent from inference', (ctx) => {
    if (!native || !canCaptureSteps()) ctx.skip();
    const config = {
      ...DEFAULT_CLASSIFIER_CONFIG,
      maxLen: 8,
      dModel: 16,
      numLayers: 1,
      numHeads: 2,
      ffnHidden: 24,
    };
    const model = buildClassifier(config, 30, 3);
    const ids = tf.ones([2, 8], 'int32');
    const seed = dropoutSeed(1)!;
    const opsOf = (training: boolean) => {
      const {record, outputs} = recordStep([ids, seed], () =>
        withDropoutSeed(seed, () => [model.apply(ids, {training}) as tf.Tensor]),
      );
      tf.dispose(outputs);
      return record.ops.map((r) => r.op);
    };
    const training = opsOf(true);
    // Attention probabilities and the two residual branches of the one block.
    expect(training.filter((op) => op === 'StatelessRandomUniform')).toHaveLength(3);
    expect(opsOf(false).filter((op) => /Random/.test(op))).toEqual([]);
    tf.dispose([ids, seed]);
    model.dispose();
  });
});
