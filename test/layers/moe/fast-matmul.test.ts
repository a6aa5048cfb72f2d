import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../../src/backend/backend.js';
import {fastMatMul, smallBatchMatMul} from '../../../src/layers/moe/fast-matmul.js';
import {maxAbsDiff, rand} from '../layer-test-utils.js';

beforeAll(async () => {
  await initBackend();
});

describe('fastMatMul', () => {
  for (const [name, aShape, bShape] of [
    ['2-D', [5, 3], [3, 4]],
    ['batched', [3, 5, 4], [3, 4, 2]],
  ] as const) {
    it(`with explicit transposes equals tf.matMul, values and gradients: ${name}`, async () => {
      const a = rand([...aShape], 1);
      const b = rand([...bShape], 2);
      const probe = rand([...aShape.slice(0, -1), bShape.at(-1)!], 3);
      const grads = (explicit: boolean) =>
        tf.grads((x: tf.Tensor, y: tf.Tensor) =>
          tf.sum(tf.mul(fastMatMul(x as tf.Tensor3D, y as tf.Tensor3D, explicit), probe)),
        )([a, b]);
      const [da, db] = grads(true);
      const [ra, rb] = grads(false);
      const value = fastMatMul(a as tf.Tensor3D, b as tf.Tensor3D, true);
      const native = fastMatMul(a as tf.Tensor3D, b as tf.Tensor3D, false); // MatMul op on tfjs-node
      const reference = tf.matMul(a, b);
      expect(await maxAbsDiff(value, reference)).toBeLessThanOrEqual(1e-5);
      expect(await maxAbsDiff(native, reference)).toBeLessThanOrEqual(1e-5);
      native.dispose();
      expect(await maxAbsDiff(da!, ra!)).toBeLessThanOrEqual(1e-5);
      expect(await maxAbsDiff(db!, rb!)).toBeLessThanOrEqual(1e-5);
      tf.dispose([a, b, probe, da!, db!, ra!, rb!, value, reference]);
    });
  }
});

describe('smallBatchMatMul', () => {
  it('equals tf.matMul over batch axes, with and without transposes', async () => {
    for (const [ta, tb] of [
      [false, false],
      [false, true],
      [true, false],
      [true, true],
    ] as const) {
      const a = rand(ta ? [1, 2, 4, 3] : [1, 2, 3, 4], 4); // [.., 3, 4] after the transpose
      const b = rand(tb ? [1, 2, 5, 4] : [1, 2, 4, 5], 5); // [.., 4, 5] after the transpose
      const value = smallBatchMatMul(a, b, ta, tb);
      const reference = tf.matMul(a, b, ta, tb);
      expect(value.shape).toEqual([1, 2, 3, 5]);
      expect(await maxAbsDiff(value, reference)).toBeLessThanOrEqual(1e-5);
      tf.dispose([a, b, value, reference]);
    }
  });
});
