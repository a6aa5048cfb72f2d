import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {LoRAEmbedding} from '../../src/layers/lora-embedding.js';
import {TokenEmbedding} from '../../src/layers/token-embedding.js';
import {
  checkGradient,
  disposeWeights,
  expectClose,
  leakedTensors,
  maxAbsDiff,
  rand,
  saveLoadDiff,
} from './layer-test-utils.js';

beforeAll(async () => {
  await initBackend();
});

function bases(): tf.layers.Layer[] {
  const keras = tf.layers.embedding({inputDim: 7, outputDim: 4, name: 'emb'});
  keras.build([null, 3]);
  const token = new TokenEmbedding({vocabSize: 7, dModel: 4, name: 'tok'});
  token.build();
  return [keras, token];
}

describe('LoRAEmbedding', () => {
  const ids = () =>
    tf.tensor2d(
      [
        [0, 6, 3],
        [3, 3, 1],
      ],
      [2, 3],
      'int32',
    );

  it('a fresh adapter equals the base embedding exactly, for both base classes', async () => {
    for (const base of bases()) {
      const lora = LoRAEmbedding.fromEmbedding(base, {rank: 2});
      expect(lora.name).toBe(base.name);
      expect(await maxAbsDiff(base.apply(ids()) as tf.Tensor, lora.apply(ids()) as tf.Tensor)).toBe(0);
      expect(lora.trainableWeights.map((w) => w.originalName.split('/').at(-1))).toEqual([
        'lora_a',
        'lora_b',
      ]);
    }
  });

  it('fuse() returns the base class with E + scale·A·B', async () => {
    for (const base of bases()) {
      const lora = LoRAEmbedding.fromEmbedding(base, {rank: 3, alpha: 6});
      const [a] = lora.getAdapterWeights();
      const b = rand([3, 4], 4);
      lora.setAdapterWeights([a!, b]);
      const fused = lora.fuse();
      expect(fused.getClassName()).toBe(base.getClassName());
      const adapted = lora.apply(ids()) as tf.Tensor;
      await expectClose(adapted, fused.apply(ids()) as tf.Tensor, 1e-5);
      expect(await maxAbsDiff(adapted, base.apply(ids()) as tf.Tensor)).toBeGreaterThan(1e-3);
      disposeWeights(fused);
    }
  });

  it('gradients of A and B match finite differences', async () => {
    const lora = LoRAEmbedding.fromEmbedding(bases()[1]!, {rank: 2, alpha: 3});
    const b = rand([2, 4], 5);
    const [a] = lora.getAdapterWeights();
    lora.setAdapterWeights([a!, b]);
    const probe = rand([2, 3, 4], 6);
    const x = ids();
    const loss = () => tf.tidy(() => tf.sum(tf.mul(lora.apply(x) as tf.Tensor, probe)) as tf.Scalar);
    for (const w of lora.trainableWeights) await checkGradient(w.read() as tf.Variable, loss, {samples: 30});
  });

  it('rejects bad configs and layers it cannot wrap', () => {
    expect(() => new LoRAEmbedding({vocabSize: 4, dModel: 2, rank: 0})).toThrow(
      /rank must be an integer >= 1/,
    );
    expect(() => new LoRAEmbedding({vocabSize: 4, dModel: 2, rank: 1, dropout: 0.1})).toThrow(
      /dropout must be 0/,
    );
    const masked = tf.layers.embedding({inputDim: 4, outputDim: 2, maskZero: true});
    masked.build([null, 2]);
    expect(() => LoRAEmbedding.fromEmbedding(masked, {rank: 1})).toThrow(/maskZero/);
    expect(() => LoRAEmbedding.fromEmbedding(tf.layers.dense({units: 2}), {rank: 1})).toThrow(
      /not an Embedding/,
    );
  });

  it('config round trips; save → load gives identical predictions', async () => {
    const args = {
      vocabSize: 11,
      dModel: 4,
      rank: 2,
      alpha: 1,
      rslora: true,
      dropout: 0,
      base: 'embedding',
    } as const;
    const config = new LoRAEmbedding(args).getConfig();
    expect(config).toMatchObject(args);
    expect(LoRAEmbedding.fromConfig(LoRAEmbedding, config).getConfig()).toEqual(config);
    const layer = new LoRAEmbedding({vocabSize: 2, dModel: 4, rank: 1});
    expect(await saveLoadDiff(layer, [3])).toBe(0);
  });

  it('leaks no tensors', async () => {
    const lora = LoRAEmbedding.fromEmbedding(bases()[0]!, {rank: 2});
    const x = ids();
    tf.dispose(lora.apply(x) as tf.Tensor);
    const leaked = await leakedTensors(() => {
      tf.dispose([lora.apply(x) as tf.Tensor, ...lora.mergedWeights()]);
      disposeWeights(lora.fuse());
    });
    expect(leaked).toBe(0);
  });
});
