import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../../src/backend/backend.js';
import {chooseExperts, type RoutingOptions, routeTokens} from '../../../src/layers/moe/routing.js';

beforeAll(async () => {
  await initBackend();
});

const OPTIONS: RoutingOptions = {
  topK: 2,
  scoring: 'softmax',
  normTopK: false,
  routeScale: 1,
  temperature: 1,
  numGroups: 1,
  topKGroups: 1,
};

describe('chooseExperts', () => {
  it('picks the top k per token, best first, ties to the lower index', () => {
    const scores = [0.1, 0.5, 0.2, 0.2, /* token 2 */ 0.3, 0.3, 0.3, 0.1];
    expect([...chooseExperts(scores, 2, 4, {topK: 2, numGroups: 1, topKGroups: 1})]).toEqual([1, 2, 0, 1]);
  });

  it('limits each token to its best groups (max score, or top-2 sum with a bias)', () => {
    // 6 experts in 3 groups of 2: [0.9, 0.0] [0.5, 0.5] [0.6, 0.1]
    const scores = [0.9, 0.0, 0.5, 0.5, 0.6, 0.1];
    const opts = {topK: 2, numGroups: 3, topKGroups: 1};
    // By the best expert group 0 wins, so both choices come from it even though 0.6 > 0.0.
    expect([...chooseExperts(scores, 1, 6, opts)]).toEqual([0, 1]);
    // By the sum of the best two, group 1 (1.0) beats group 0 (0.9).
    expect([...chooseExperts(scores, 1, 6, opts, true)]).toEqual([2, 3]);
    // Two groups by max: 0 and 2.
    expect([...chooseExperts(scores, 1, 6, {...opts, topKGroups: 2})]).toEqual([0, 4]);
  });
});

describe('routeTokens', () => {
  it('gathers the weights of the chosen experts from the unbiased scores', async () => {
    const logits = tf.tensor2d([
      [2, 1, 0, -1],
      [0, 0, 3, 1],
    ]);
    const probs = tf.softmax(logits);
    const bias = tf.tensor1d([0, 0, 0, 10]); // steers the choice to expert 3, not its weight
    const plain = routeTokens(logits, OPTIONS);
    const biased = routeTokens(logits, OPTIONS, bias);
    expect([...plain.indices]).toEqual([0, 1, 2, 3]);
    expect([...biased.indices]).toEqual([3, 0, 3, 2]);
    const p = (await probs.array()) as number[][];
    const w = (await biased.weights.array()) as number[][];
    expect(w[0]![0]).toBeCloseTo(p[0]![3]!, 6);
    expect(w[1]![1]).toBeCloseTo(p[1]![2]!, 6);
    tf.dispose([logits, probs, bias, plain, biased] as unknown as tf.Tensor[]);
  });

  it('renormalises, scales and applies temperature; sigmoid probs sum to 1', async () => {
    const logits = tf.tensor2d([[1, 2, 3, 0.5]]);
    const routed = routeTokens(logits, {...OPTIONS, scoring: 'sigmoid', normTopK: true, routeScale: 3});
    expect((await tf.sum(routed.weights).data())[0]).toBeCloseTo(3, 5);
    expect((await tf.sum(routed.probs).data())[0]).toBeCloseTo(1, 5);
    const hot = routeTokens(logits, {...OPTIONS, temperature: 0.5});
    expect((await hot.logits.data())[2]).toBeCloseTo(6, 5);
    tf.dispose([logits, routed.weights, routed.probs, routed.scores, hot.logits, hot.scores, hot.weights]);
  });

  it('passes gradients to the logits only through the chosen experts (softmax couples them all)', () => {
    const logits = tf.tensor2d([[2, 1, 0, -1]]);
    const sigmoidGrad = tf.grad((l: tf.Tensor) =>
      tf.sum(routeTokens(l as tf.Tensor2D, {...OPTIONS, scoring: 'sigmoid'}).weights),
    )(logits);
    const g = sigmoidGrad.dataSync();
    expect(g[0]).toBeGreaterThan(0);
    expect(g[1]).toBeGreaterThan(0);
    expect([g[2], g[3]]).toEqual([0, 0]);
    tf.dispose([logits, sigmoidGrad]);
  });
});
