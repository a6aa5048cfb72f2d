import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../../src/backend/backend.js';
import {fastMatMul} from '../../../src/layers/moe/fast-matmul.js';
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
      const reference = tf.matMul(a, b);
      expect(await maxAbsDiff(value, reference)).toBeLessThanOrEqual(1e-5);
      expect(await maxAbsDiff(da!, ra!)).toBeLessThanOrEqual(1e-5);
      expect(await maxAbsDiff(db!, rb!)).toBeLessThanOrEqual(1e-5);
      tf.dispose([a, b, probe, da!, db!, ra!, rb!, value, reference]);
    });
  }
});
