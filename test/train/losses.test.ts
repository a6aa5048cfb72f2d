import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {
  accuracy,
  balancedClassWeights,
  modelLosses,
  sparseCrossEntropy,
  weightedMean,
} from '../../src/train/losses.js';
import {expectFusedEqualsComposed} from '../helpers/fused.js';

beforeAll(async () => {
  await initBackend();
});

const value = (t: tf.Tensor) => {
  const v = t.dataSync()[0]!;
  t.dispose();
  return v;
};

describe('losses', () => {
  it('sparse cross-entropy as one TensorFlow op equals the composed loss, gradients included', () => {
    const logits = tf.randomNormal([4, 16, 256], 0, 3, 'float32', 1);
    const labels = tf.randomUniform([4, 16], 0, 256, 'int32', 2);
    const weights = tf.tensor1d([1, 0, 2, 0.5]);
    expectFusedEqualsComposed((x) => sparseCrossEntropy(x, labels), [logits]);
    expectFusedEqualsComposed((x) => sparseCrossEntropy(x, labels, weights), [logits]);
    tf.dispose([logits, labels, weights]);
  });

  it('sparse cross-entropy equals −log softmax of the label, per example and on sequences', () => {
    const logits = tf.tensor2d([
      [2, 0, 0],
      [0, 1, 3],
    ]);
    const labels = tf.tensor1d([0, 1], 'int32');
    const lse = (xs: number[]) => Math.log(xs.reduce((s, x) => s + Math.exp(x), 0));
    const expected = [lse([2, 0, 0]) - 2, lse([0, 1, 3]) - 1];
    expect(value(sparseCrossEntropy(logits, labels))).toBeCloseTo((expected[0]! + expected[1]!) / 2, 5);
    const w = tf.tensor1d([1, 3]);
    expect(value(sparseCrossEntropy(logits, labels, w))).toBeCloseTo(
      (expected[0]! + 3 * expected[1]!) / 4,
      5,
    );
    // [batch 1, seq 2, vocab 3] with per-example weights broadcast over positions.
    const seq = tf.reshape(logits, [1, 2, 3]);
    const seqLabels = tf.reshape(labels, [1, 2]);
    const w1 = tf.tensor1d([2]);
    expect(value(sparseCrossEntropy(seq, seqLabels, w1))).toBeCloseTo((expected[0]! + expected[1]!) / 2, 5);
    tf.dispose([logits, labels, w, seq, seqLabels, w1]);
  });

  it('accuracy and weighted mean', () => {
    const logits = tf.tensor2d([
      [2, 0],
      [0, 1],
      [3, 1],
    ]);
    const labels = tf.tensor1d([0, 1, 1], 'int32');
    expect(value(accuracy(logits, labels))).toBeCloseTo(2 / 3, 6);
    const w = tf.tensor1d([1, 1, 0]);
    expect(value(accuracy(logits, labels, w))).toBe(1);
    const x = tf.tensor1d([1, 2, 3]);
    expect(value(weightedMean(x, w))).toBeCloseTo(1.5, 6);
    tf.dispose([logits, labels, w, x]);
  });

  it('model losses sum what layers add (here an L2 regularizer), zero when there are none', () => {
    const model = tf.sequential();
    model.add(
      tf.layers.dense({
        units: 2,
        inputShape: [3],
        kernelInitializer: tf.initializers.constant({value: 0.5}),
        kernelRegularizer: tf.regularizers.l2({l2: 0.1}),
      }),
    );
    tf.tidy(() => model.predict(tf.zeros([1, 3])));
    expect(value(modelLosses(model))).toBeCloseTo(0.1 * 6 * 0.25, 6);
    const plain = tf.sequential({layers: [tf.layers.dense({units: 1, inputShape: [2]})]});
    expect(value(modelLosses(plain))).toBe(0);
    model.dispose();
    plain.dispose();
  });

  it('balanced class weights make each present class weigh the same in total', () => {
    const weights = balancedClassWeights([0, 0, 0, 1, 2, 2], 4);
    expect(weights).toEqual([6 / 9, 2, 1, 0]);
    const totals = [3 * weights[0]!, 1 * weights[1]!, 2 * weights[2]!];
    expect(new Set(totals.map((t) => t.toFixed(9))).size).toBe(1);
  });
});
