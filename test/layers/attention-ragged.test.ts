import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {Attention, type AttentionArgs} from '../../src/layers/attention.js';
import {disposeKVCache, type KVCache, raggedMask} from '../../src/layers/kv-cache.js';
import {disposeWeights, expectClose, rand} from './layer-test-utils.js';

beforeAll(async () => {
  await initBackend();
});

const padLeft = (t: tf.Tensor4D, n: number) =>
  tf.pad(t, [
    [0, 0],
    [0, 0],
    [n, 0],
    [0, 0],
  ]) as tf.Tensor4D;

/**
 * Sequences of different lengths, each with one new token: the ragged batched step (caches
 * right-aligned, padding masked, one position per row) against each sequence decoded alone.
 */
async function checkRagged(args: AttentionArgs, lengths: number[]): Promise<void> {
  const layer = new Attention(args);
  layer.build([null, 4, args.dModel]);
  const prompts = lengths.map((n, i) => rand([1, n, args.dModel], 10 + i) as tf.Tensor3D);
  const next = rand([lengths.length, 1, args.dModel], 99) as tf.Tensor3D;
  const before = tf.memory().numTensors;
  const alone: tf.Tensor[] = [];
  const caches: KVCache[] = [];
  for (const [i, prompt] of prompts.entries()) {
    const first = layer.callWithCache(prompt);
    first.output.dispose();
    caches.push(first.cache);
    const token = tf.slice(next, [i, 0, 0], [1, 1, -1]) as tf.Tensor3D;
    const step = layer.callWithCache(token, first.cache);
    alone.push(step.output);
    disposeKVCache(step.cache);
    token.dispose();
  }
  const width = Math.max(...lengths);
  const stack = (part: 'keys' | 'values') =>
    tf.tidy(
      () =>
        tf.concat(
          caches.map((c, i) => padLeft(c[part], width - lengths[i]!)),
          0,
        ) as tf.Tensor4D,
    );
  const batched: KVCache = {keys: stack('keys'), values: stack('values')};
  const mask = raggedMask(
    lengths.map((n) => width - n),
    width,
  );
  const step = layer.callWithCache(next, batched, {positions: lengths, mask});
  const want = tf.concat(alone, 0);
  await expectClose(step.output, want, 1e-5);
  expect(step.cache.keys.shape).toEqual([lengths.length, layer.numKvHeads, width + 1, layer.headDim]);
  tf.dispose([step.output, want, mask, ...alone]);
  for (const c of [...caches, batched, step.cache]) disposeKVCache(c);
  layer.releaseDecodeWeights();
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([...prompts, next]);
  disposeWeights(layer);
}

describe('Attention on ragged rows (one token each, sequences of different lengths)', () => {
  it('equals each sequence decoded alone: fused decode path', async () => {
    await checkRagged({dModel: 8, numHeads: 2}, [3, 1, 5]);
    await checkRagged({dModel: 16, numHeads: 4, numKvHeads: 2, useBias: true}, [2, 6]);
    await checkRagged({dModel: 8, numHeads: 4, numKvHeads: 1, rope: false}, [4, 2]);
  });

  it('equals each sequence decoded alone: general path (LoRA adapters)', async () => {
    await checkRagged({dModel: 8, numHeads: 2, lora: {rank: 2, targets: ['q', 'v']}}, [3, 1, 5]);
    await checkRagged({dModel: 16, numHeads: 4, numKvHeads: 2, lora: {rank: 2, targets: ['k']}}, [2, 6]);
  });

  it('refuses more than one token per ragged row', () => {
    const layer = new Attention({dModel: 8, numHeads: 2});
    layer.build([null, 4, 8]);
    const x = tf.zeros([1, 2, 8]) as tf.Tensor3D;
    const mask = raggedMask([0], 0);
    expect(() => layer.callWithCache(x, null, {positions: [0], mask})).toThrow(/one token per row/);
    tf.dispose([x, mask]);
    disposeWeights(layer);
  });
});
