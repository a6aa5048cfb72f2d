import * as tf from '@tensorflow/tfjs';
import {describe, expect, it} from 'vitest';
import {
  buildClassifier,
  CLASSIFIER_PRESETS,
  type ClassifierConfig,
  DEFAULT_CLASSIFIER_CONFIG,
} from '../../../src/models/text-classifier/classifier.js';

const bag = (dropout: number): ClassifierConfig => ({
  ...DEFAULT_CLASSIFIER_CONFIG,
  ...CLASSIFIER_PRESETS.fasttext,
  maxLen: 8,
  dModel: 8,
  vocabSize: 50,
  bigramBuckets: 64,
  dropout,
});

describe('buildClassifier: dropout on a bag', () => {
  it('falls on the embeddings in training only; without it the bag has no dropout layer', () => {
    const ids = tf.tensor2d([[5, 6, 7, 8, 0, 0, 0, 0]], [1, 8], 'int32');
    const plain = buildClassifier(bag(0), 50, 3);
    const dropped = buildClassifier(bag(0.5), 50, 3);
    expect(plain.layers.some((l) => l.name === 'embed-dropout')).toBe(false);
    expect(dropped.layers.some((l) => l.name === 'embed-dropout')).toBe(true);
    const before = tf.memory().numTensors;
    const [a, b, t] = tf.tidy(() => [
      (dropped.apply(ids, {training: false}) as tf.Tensor).arraySync(),
      (dropped.apply(ids, {training: false}) as tf.Tensor).arraySync(),
      (dropped.apply(ids, {training: true}) as tf.Tensor).arraySync(),
    ]);
    expect(tf.memory().numTensors).toBe(before);
    expect(a).toEqual(b);
    expect(t).not.toEqual(a);
    tf.dispose([ids]);
    plain.dispose();
    dropped.dispose();
  });
});
