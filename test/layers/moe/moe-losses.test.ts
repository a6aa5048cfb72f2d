import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../../src/backend/backend.js';
import {
  balanceLoss,
  routerZLoss,
  sequenceBalanceLoss,
  switchLoss,
} from '../../../src/layers/moe/moe-losses.js';
import {updatedRoutingBias} from '../../../src/layers/moe/routing-bias.js';

beforeAll(async () => {
  await initBackend();
});

describe('balance losses', () => {
  it('are 1 for uniform routing and E when every token picks one expert', () => {
    const uniform = tf.fill([4, 4], 0.25) as tf.Tensor2D;
    const collapsed = tf.tensor2d([1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0], [4, 4]);
    expect(switchLoss(uniform, [0, 1, 2, 3], 1).dataSync()[0]).toBeCloseTo(1, 6);
    expect(switchLoss(collapsed, [0, 0, 0, 0], 1).dataSync()[0]).toBeCloseTo(4, 6);
    // f counts all k choices: top-2 over E = 4 with perfect spread is still 1.
    expect(switchLoss(uniform, [0, 1, 2, 3, 0, 1, 2, 3], 2).dataSync()[0]).toBeCloseTo(1, 6);
    tf.dispose([uniform, collapsed]);
  });

  it('sequence-wise loss balances each sequence on its own', () => {
    // Sequence 1 uses only expert 0, sequence 2 only expert 1: balanced over the batch, not per sequence.
    const probs = tf.tensor2d([1, 0, 1, 0, 0, 1, 0, 1], [4, 2]);
    const indices = [0, 0, 1, 1];
    expect(switchLoss(probs, indices, 1).dataSync()[0]).toBeCloseTo(1, 6);
    expect(sequenceBalanceLoss(probs, indices, 1, 2).dataSync()[0]).toBeCloseTo(2, 6);
    expect(() => balanceLoss(probs, indices, 1, 3)).toThrow(/do not split into sequences of 3/);
    probs.dispose();
  });

  it('has its gradient through P only', () => {
    const logits = tf.tensor2d([
      [1, 0],
      [0.5, 0.2],
    ]);
    const g = tf.grad((l: tf.Tensor) => switchLoss(tf.softmax(l) as tf.Tensor2D, [0, 0], 1))(logits);
    // Raising expert 0's logit raises P_0 whose f_0 = 1: the loss grows.
    expect(g.dataSync()[0]).toBeGreaterThan(0);
    tf.dispose([logits, g]);
  });
});

describe('routerZLoss', () => {
  it('is the mean squared logsumexp', () => {
    const logits = tf.tensor2d([
      [0, 0],
      [Math.log(3), 0],
    ]);
    const expected = (Math.log(2) ** 2 + Math.log(4) ** 2) / 2;
    expect(routerZLoss(logits).dataSync()[0]).toBeCloseTo(expected, 5);
    logits.dispose();
  });
});

describe('updatedRoutingBias', () => {
  it('moves each bias by γ against its load relative to the mean', () => {
    const bias = tf.tensor1d([0, 0.5, 0, 0]);
    const next = updatedRoutingBias(bias, [10, 2, 4, 4], 0.1); // mean 5
    const v = next.dataSync();
    expect(v[0]).toBeCloseTo(-0.1, 6);
    expect(v[1]).toBeCloseTo(0.6, 6);
    expect(v[2]).toBeCloseTo(0.1, 6);
    const even = updatedRoutingBias(bias, [3, 3, 3, 3], 0.1);
    expect([...even.dataSync()]).toEqual([...bias.dataSync()]);
    tf.dispose([bias, next, even]);
  });
});
