import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {embedLookup, TokenEmbedding} from '../../src/layers/token-embedding.js';
import {checkGradient, expectClose, leakedTensors, maxAbsDiff, saveAndLoad} from './layer-test-utils.js';

beforeAll(async () => {
  await initBackend();
});

describe('TokenEmbedding', () => {
  it('looks up rows by id, for any id shape', async () => {
    const layer = new TokenEmbedding({vocabSize: 5, dModel: 3});
    layer.build();
    const table = layer.getWeights()[0]!;
    const ids = tf.tensor2d([[0, 4, 2]], [1, 3], 'int32');
    const out = layer.apply(ids) as tf.Tensor;
    expect(out.shape).toEqual([1, 3, 3]);
    await expectClose(out, tf.stack([tf.gather(table, [0, 4, 2])]), 0);
    expect((layer.apply(tf.input({shape: [7], dtype: 'int32'})) as tf.SymbolicTensor).shape).toEqual([
      null,
      7,
      3,
    ]);
  });

  it('logits() multiplies by the transposed table (a tied output head)', async () => {
    const layer = new TokenEmbedding({vocabSize: 6, dModel: 4});
    layer.build();
    const h = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 1);
    const logits = layer.logits(h);
    expect(logits.shape).toEqual([2, 3, 6]);
    const expected = tf.matMul(h.reshape([6, 4]), layer.getWeights()[0]!, false, true).reshape([2, 3, 6]);
    await expectClose(logits, expected, 1e-6);
  });

  it('the lookup has a gradient on every backend', async () => {
    const table = tf.variable(tf.randomNormal([4, 3], 0, 1, 'float32', 2));
    const ids = tf.tensor1d([1, 3, 1], 'int32');
    const probe = tf.randomNormal([3, 3], 0, 1, 'float32', 3);
    await checkGradient(table, () =>
      tf.tidy(() => tf.sum(tf.mul(embedLookup(table, ids), probe)) as tf.Scalar),
    );
  });

  it('rejects bad configs, and its config round trips', () => {
    expect(() => new TokenEmbedding({vocabSize: 0, dModel: 4})).toThrow(
      /vocabSize must be an integer >= 1, got 0/,
    );
    expect(() => new TokenEmbedding({vocabSize: 4, dModel: 4, initStd: 0})).toThrow(/initStd/);
    const config = new TokenEmbedding({vocabSize: 9, dModel: 2, initStd: 0.1}).getConfig();
    expect(config).toMatchObject({vocabSize: 9, dModel: 2, initStd: 0.1});
    expect(TokenEmbedding.fromConfig(TokenEmbedding, config).getConfig()).toEqual(config);
  });

  it('save → load gives identical predictions, and it trains with fit', async () => {
    const input = tf.input({shape: [3], dtype: 'int32'});
    const h = new TokenEmbedding({vocabSize: 10, dModel: 4, name: 'tok'}).apply(input) as tf.SymbolicTensor;
    const model = tf.model({inputs: input, outputs: h});
    const ids = tf.tensor2d(
      [
        [1, 2, 3],
        [9, 0, 9],
      ],
      [2, 3],
      'int32',
    );
    const loaded = await saveAndLoad(model);
    expect(await maxAbsDiff(model.predict(ids) as tf.Tensor, loaded.predict(ids) as tf.Tensor)).toBe(0);
    model.compile({optimizer: tf.train.sgd(1), loss: 'meanSquaredError'});
    const history = await model.fit(ids, tf.ones([2, 3, 4]), {epochs: 5, verbose: 0});
    const losses = history.history.loss as number[];
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
  });

  it('leaks no tensors', async () => {
    const layer = new TokenEmbedding({vocabSize: 5, dModel: 2});
    const ids = tf.tensor1d([1, 2], 'int32');
    tf.dispose(layer.apply(ids) as tf.Tensor);
    const h = tf.ones([2, 2]);
    expect(await leakedTensors(() => tf.dispose([layer.apply(ids) as tf.Tensor, layer.logits(h)]))).toBe(0);
    tf.dispose([ids, h]);
  });
});
