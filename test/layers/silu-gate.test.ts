import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {siluGate} from '../../src/layers/silu-gate.js';
import {expectClose, rand} from './layer-test-utils.js';

beforeAll(async () => {
  await initBackend();
});

/** What siluGate replaces: the three ops, differentiated by tfjs. */
const reference = (g: tf.Tensor, u: tf.Tensor) => tf.tidy(() => tf.mul(tf.mul(g, tf.sigmoid(g)), u));

describe('siluGate', () => {
  it('equals silu(gate)·up, with the gradients tfjs derives from it, and leaks nothing', async () => {
    for (const shape of [
      [3, 5],
      [2, 4, 6],
    ]) {
      const g = tf.mul(rand(shape, 1), 6); // well into both tails of the sigmoid
      const u = rand(shape, 2);
      const dy = rand(shape, 3);
      const before = tf.memory().numTensors;
      const grads = (f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor) =>
        tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, b), dy)))([g, u]);
      const [dg, du] = grads(siluGate);
      const [rg, ru] = grads(reference);
      const value = siluGate(g, u);
      const expected = reference(g, u);
      await expectClose(value, expected, 1e-6);
      await expectClose(dg!, rg!, 1e-5);
      await expectClose(du!, ru!, 1e-6);
      tf.dispose([dg!, du!, rg!, ru!, value, expected]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([g, u, dy]);
    }
  });
});
