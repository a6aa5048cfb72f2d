import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {HashedBigrams} from '../../src/layers/hashed-bigrams.js';
import {MaskedMeanPool} from '../../src/layers/masked-mean-pool.js';
import {TokenEmbedding} from '../../src/layers/token-embedding.js';
import {expectClose, leakedTensors, saveAndLoad} from './layer-test-utils.js';

beforeAll(async () => {
  await initBackend();
});

/** The layer's hash, written out in plain numbers. */
const bucket = (a: number, b: number, buckets: number) => (251 * (a % 65_521) + (b % 65_521)) % buckets;

describe('HashedBigrams', () => {
  it('appends one hashed id per adjacent pair, padding where either token is padding', async () => {
    const layer = new HashedBigrams({vocabSize: 100, buckets: 7, padId: 0});
    const ids = tf.tensor2d(
      [
        [5, 9, 70000, 0],
        [3, 0, 0, 0],
      ],
      [2, 4],
      'int32',
    );
    const out = layer.apply(ids) as tf.Tensor;
    expect(out.dtype).toBe('int32');
    expect(out.shape).toEqual([2, 7]);
    expect(await out.array()).toEqual([
      [5, 9, 70000, 0, 100 + bucket(5, 9, 7), 100 + bucket(9, 70000, 7), 0],
      [3, 0, 0, 0, 0, 0, 0],
    ]);
    const symbolic = layer.apply(tf.input({shape: [6], dtype: 'int32'})) as tf.SymbolicTensor;
    expect(symbolic.shape).toEqual([null, 11]);
    tf.dispose([ids, out]);
  });

  it('its config round trips, bad args are named', () => {
    const config = new HashedBigrams({vocabSize: 50, buckets: 1024, padId: 2}).getConfig();
    expect(config).toMatchObject({vocabSize: 50, buckets: 1024, padId: 2});
    expect(HashedBigrams.fromConfig(HashedBigrams, config).getConfig()).toEqual(config);
    expect(() => new HashedBigrams({vocabSize: 50, buckets: 0})).toThrow(/buckets must be an integer/);
  });

  it('in a bag model: save → load predicts the same, and no tensor leaks', async () => {
    const ids = tf.input({shape: [5], dtype: 'int32'});
    const both = new HashedBigrams({vocabSize: 20, buckets: 16}).apply(ids) as tf.SymbolicTensor;
    const h = new TokenEmbedding({vocabSize: 36, dModel: 4}).apply(both) as tf.SymbolicTensor;
    const pooled = new MaskedMeanPool().apply([h, both]) as tf.SymbolicTensor;
    const model = tf.model({
      inputs: ids,
      outputs: tf.layers.dense({units: 3}).apply(pooled) as tf.SymbolicTensor,
    });
    const x = tf.tensor2d(
      [
        [1, 2, 3, 0, 0],
        [19, 18, 4, 4, 7],
      ],
      [2, 5],
      'int32',
    );
    const loaded = await saveAndLoad(model);
    const [a, b] = [model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
    await expectClose(a, b, 0);
    expect(await leakedTensors(() => tf.dispose(model.predict(x) as tf.Tensor))).toBe(0);
    tf.dispose([x, a, b]);
  });
});
