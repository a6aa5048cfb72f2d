import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {RMSNorm} from '../../src/layers/rms-norm.js';
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

  it('leaks no tensors', async () => {
    const layer = new RMSNorm();
    const x = rand([2, 4]);
    tf.dispose(layer.apply(x) as tf.Tensor);
    expect(await leakedTensors(() => tf.dispose(layer.apply(x) as tf.Tensor))).toBe(0);
    x.dispose();
  });
});
