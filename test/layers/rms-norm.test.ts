import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {RMSNorm, rmsNorm} from '../../src/layers/rms-norm.js';
import {expectClose, leakedTensors, rand, saveLoadDiff} from './layer-test-utils.js';

beforeAll(async () => {
  await initBackend();
});

describe('RMSNorm', () => {
  it('divides by the root mean square and multiplies by the gain', async () => {
    const layer = new RMSNorm({epsilon: 1e-6});
    const x = tf.tensor2d([
      [3, 4],
      [1, -1],
    ]);
    const y = layer.apply(x) as tf.Tensor;
    // rms([3, 4]) = sqrt(12.5); rms([1, -1]) = 1
    const expected = tf.tensor2d([
      [3 / Math.sqrt(12.5), 4 / Math.sqrt(12.5)],
      [1, -1],
    ]);
    await expectClose(y, expected, 1e-5);
    layer.setWeights([tf.tensor1d([2, -1])]);
    const scaled = layer.apply(x) as tf.Tensor;
    await expectClose(scaled, tf.mul(expected, tf.tensor1d([2, -1])), 1e-5);
    expect(layer.weights.map((w) => w.originalName.split('/').at(-1))).toEqual(['scale']);
  });

  it('is scale invariant and keeps the shape of rank-3 inputs', async () => {
    const layer = new RMSNorm();
    const x = rand([2, 3, 8]);
    const a = layer.apply(x) as tf.Tensor;
    const b = layer.apply(tf.mul(x, 7)) as tf.Tensor;
    expect(a.shape).toEqual([2, 3, 8]);
    await expectClose(a, b, 1e-5);
    expect((layer.apply(tf.input({shape: [5, 8]})) as tf.SymbolicTensor).shape).toEqual([null, 5, 8]);
  });

  it('rejects a non-positive epsilon', () => {
    expect(() => new RMSNorm({epsilon: 0})).toThrow(/epsilon must be a finite number > 0, got 0/);
  });

  it('config round trips', () => {
    const config = new RMSNorm({epsilon: 1e-5, name: 'n'}).getConfig();
    expect(config).toMatchObject({epsilon: 1e-5, name: 'n'});
    expect(RMSNorm.fromConfig(RMSNorm, config).getConfig()).toEqual(config);
  });

  it('save → load gives identical predictions', async () => {
    expect(await saveLoadDiff(new RMSNorm({epsilon: 1e-5}), [4, 6])).toBe(0);
  });

  it('its written-out gradients equal those tfjs derives from the formula, with no leak', async () => {
    const reference = (x: tf.Tensor, g: tf.Tensor) =>
      tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), 1e-6))), g);
    for (const shape of [
      [3, 8],
      [2, 5, 8],
    ]) {
      const x = tf.mul(rand(shape, 4), 3);
      const g = rand([8], 5);
      const dy = rand(shape, 6);
      const grads = (f: (x: tf.Tensor, g: tf.Tensor) => tf.Tensor) =>
        tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, b), dy)))([x, g]);
      const before = tf.memory().numTensors;
      const [dx, dg] = grads((a, b) => rmsNorm(a, b, 1e-6));
      const [rx, rg] = grads(reference);
      const [y, expected] = tf.tidy(() => [rmsNorm(x, g, 1e-6), reference(x, g)]);
      await expectClose(y!, expected!, 1e-6);
      await expectClose(dx!, rx!, 1e-5);
      await expectClose(dg!, rg!, 1e-5);
      tf.dispose([dx!, dg!, rx!, rg!, y!, expected!]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, g, dy]);
    }
  });

  it('leaks no tensors', async () => {
    const layer = new RMSNorm();
    const x = rand([2, 4]);
    tf.dispose(layer.apply(x) as tf.Tensor);
    expect(await leakedTensors(() => tf.dispose(layer.apply(x) as tf.Tensor))).toBe(0);
    x.dispose();
  });
});
