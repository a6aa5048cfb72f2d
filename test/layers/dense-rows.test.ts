import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {applyRows, isPlainDense} from '../../src/layers/dense-rows.js';
import {expectFusedEqualsComposed} from '../helpers/fused.js';
import {leakedTensors, maxAbsDiff, rand} from './layer-test-utils.js';

beforeAll(async () => {
  await initBackend();
});

/** Value and kernel/bias gradients of Σ(f(x)·probe), for comparing two ways of applying a layer. */
function valueAndWeightGrads(layer: tf.layers.Layer, f: () => tf.Tensor, probe: tf.Tensor): tf.Tensor[] {
  return tf.tidy(() => {
    const {value, grads} = tf.variableGrads(
      () => tf.sum(tf.mul(f(), probe)) as tf.Scalar,
      layer.trainableWeights.map((w) => w.read() as tf.Variable),
    );
    return [value, ...Object.values(grads)];
  });
}

describe('applyRows', () => {
  for (const useBias of [true, false]) {
    it(`equals Dense.apply in value and in input and weight gradients (useBias ${useBias})`, async () => {
      const dense = tf.layers.dense({units: 5, useBias, biasInitializer: 'randomNormal'});
      const x = rand([6, 7]) as tf.Tensor2D;
      dense.apply(x);
      expect(isPlainDense(dense)).toBe(true);
      // On tensorflow: applyRows's native MatMul vs Dense.apply (the composed path).
      expectFusedEqualsComposed((rows) => applyRows(dense, rows as tf.Tensor2D), [x]);
      const probe = rand([6, 5], 3);
      const fast = valueAndWeightGrads(dense, () => applyRows(dense, x), probe);
      const reference = valueAndWeightGrads(dense, () => dense.apply(x) as tf.Tensor, probe);
      expect(fast).toHaveLength(useBias ? 3 : 2);
      for (const [i, t] of fast.entries()) expect(await maxAbsDiff(t, reference[i]!)).toBeLessThan(1e-5);
      tf.dispose([x, probe, ...fast, ...reference]);
    });
  }

  it('leaves any other layer to its own apply, and leaks nothing', async () => {
    const relu = tf.layers.dense({units: 3, activation: 'relu'});
    const x = rand([4, 2]) as tf.Tensor2D;
    const expected = relu.apply(x) as tf.Tensor;
    expect(isPlainDense(relu)).toBe(false);
    const leaked = await leakedTensors(() => {
      const y = applyRows(relu, x);
      return maxAbsDiff(y, expected).then((d) => {
        expect(d).toBe(0);
        y.dispose();
      });
    });
    expect(leaked).toBe(0);
    tf.dispose([x, expected]);
  });
});
