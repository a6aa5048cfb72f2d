import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../../src/backend/backend.js';
import {swiglu} from '../../../src/layers/moe/expert-ffn.js';
import {maxAbsDiff, rand} from '../layer-test-utils.js';

beforeAll(async () => {
  await initBackend();
});

/** Value and gradients of sum(f(g, u)·probe) w.r.t. g and u. */
function valueAndGrads(
  f: (g: tf.Tensor, u: tf.Tensor) => tf.Tensor,
  g: tf.Tensor,
  u: tf.Tensor,
  probe: tf.Tensor,
) {
  const y = f(g, u);
  const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, b), probe)))([g, u]);
  return {y, grads};
}

describe('swiglu', () => {
  it('equals the composed silu(g)·u, values and gradients', async () => {
    const g = tf.mul(rand([6, 5], 11), 4); // σ's tails too
    const u = rand([6, 5], 12);
    const probe = rand([6, 5], 13);
    const ours = valueAndGrads(swiglu, g, u, probe);
    const composed = valueAndGrads((a, b) => tf.mul(tf.mul(a, tf.sigmoid(a)), b), g, u, probe);
    expect(await maxAbsDiff(ours.y, composed.y)).toBeLessThanOrEqual(1e-5);
    expect(await maxAbsDiff(ours.grads[0]!, composed.grads[0]!)).toBeLessThanOrEqual(1e-5);
    expect(await maxAbsDiff(ours.grads[1]!, composed.grads[1]!)).toBeLessThanOrEqual(1e-5);
    tf.dispose([g, u, probe, ours.y, ours.grads, composed.y, composed.grads]);
  });
});
