import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {DerivedWeights} from '../../src/layers/derived-weights.js';
import {maxAbsDiff} from './layer-test-utils.js';

beforeAll(async () => {
  await initBackend();
});

describe('DerivedWeights', () => {
  it('reuses the derived tensor until a source is written, survives tidy, frees on dispose', async () => {
    const a = tf.variable(tf.tensor1d([1, 2]));
    const b = tf.variable(tf.tensor1d([10, 20]));
    let builds = 0;
    const sum = new DerivedWeights((sources) => {
      builds++;
      return tf.add(sources[0]!, sources[1]!);
    });
    const before = tf.memory().numTensors;
    const first = tf.tidy(() => sum.get([a, b]));
    expect(first.isDisposed).toBe(false);
    expect(tf.tidy(() => sum.get([a, b]))).toBe(first);
    expect(builds).toBe(1);
    const written = tf.tensor1d([100, 200]);
    b.assign(written); // as an optimizer step or setWeights does
    written.dispose();
    const second = sum.get([a, b]);
    expect(builds).toBe(2);
    expect(first.isDisposed).toBe(true);
    const expected = tf.tensor1d([101, 202]);
    expect(await maxAbsDiff(second, expected)).toBe(0);
    expected.dispose();
    sum.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a, b]);
  });
});
