import * as tf from '@tensorflow/tfjs';
import {afterAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {DecoderBlock} from '../../src/layers/decoder-block.js';
import {disposeKVCache} from '../../src/layers/kv-cache.js';
import {LoRADense} from '../../src/layers/lora-dense.js';
import {LoRAEmbedding} from '../../src/layers/lora-embedding.js';
import {embedLookup, TokenEmbedding} from '../../src/layers/token-embedding.js';
import {checkGradient, expectClose, maxAbsDiff, rand} from './layer-test-utils.js';

// The other tests run on the default backend. Kernels differ per backend (wasm has no
// UnsortedSegmentSum and ignores OneHot's dtype; tile has no rank-5 gradient anywhere), so the
// invariants most exposed to that run on every backend that loads here.
const BACKENDS = ['cpu', 'wasm', 'tensorflow'] as const;

afterAll(async () => {
  await initBackend();
});

for (const backend of BACKENDS) {
  describe(`on the ${backend} backend`, () => {
    let available = true;
    const use = async () => {
      try {
        await initBackend({backend});
      } catch {
        available = false;
      }
      return available;
    };

    it('embedding lookups are exact and have a gradient', async (ctx) => {
      if (!(await use())) return ctx.skip();
      const table = tf.variable(rand([6, 3], 1));
      const ids = tf.tensor2d([[5, 0, 2]], [1, 3], 'int32');
      await expectClose(embedLookup(table, ids), tf.gather(table, [5, 0, 2]).expandDims(0), 0);
      const probe = rand([1, 3, 3], 2);
      await checkGradient(table, () =>
        tf.tidy(() => tf.sum(tf.mul(embedLookup(table, ids), probe)) as tf.Scalar),
      );
      const token = new TokenEmbedding({vocabSize: 6, dModel: 3});
      token.build();
      const lora = LoRAEmbedding.fromEmbedding(token, {rank: 2});
      expect(await maxAbsDiff(token.apply(ids) as tf.Tensor, lora.apply(ids) as tf.Tensor)).toBe(0);
    });

    it('a fresh LoRADense equals its Dense', async (ctx) => {
      if (!(await use())) return ctx.skip();
      const dense = tf.layers.dense({units: 3, activation: 'gelu', biasInitializer: 'ones'});
      dense.build([null, 4]);
      const x = rand([2, 5, 4]);
      const lora = LoRADense.fromDense(dense, {rank: 2});
      expect(await maxAbsDiff(dense.apply(x) as tf.Tensor, lora.apply(x) as tf.Tensor)).toBe(0);
    });

    it('a GQA decoder block decodes with its cache as in the full forward, and has gradients', async (ctx) => {
      if (!(await use())) return ctx.skip();
      const block = new DecoderBlock({dModel: 8, numHeads: 4, numKvHeads: 2, ffnHidden: 8});
      const x = rand([1, 3, 8], 3) as tf.Tensor3D;
      const full = block.apply(x) as tf.Tensor;
      const [head, tail] = tf.split(x, [2, 1], 1) as tf.Tensor3D[];
      const first = block.callWithCache(head!);
      const second = block.callWithCache(tail!, first.cache);
      await expectClose(full, tf.concat([first.output, second.output], 1), 1e-5);
      disposeKVCache(second.cache);
      const k = block.weights.find((w) => w.originalName.endsWith('attn/k/kernel'))!;
      await checkGradient(k.read() as tf.Variable, () =>
        tf.tidy(() => tf.sum(tf.square(block.apply(x) as tf.Tensor)) as tf.Scalar),
      );
    });
  });
}
