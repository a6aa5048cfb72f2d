import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {LoRADense} from '../../src/layers/lora-dense.js';
import {SwiGLU} from '../../src/layers/swiglu.js';
import {expectFusedEqualsComposedGrads} from '../helpers/fused.js';
import {expectClose, leakedTensors, rand, saveLoadDiff} from './layer-test-utils.js';

beforeAll(async () => {
  await initBackend();
});

describe('SwiGLU', () => {
  it('computes down(silu(gate(x)) · up(x))', async () => {
    const layer = new SwiGLU({hidden: 6, name: 'ffn'});
    const x = rand([2, 3, 4]);
    const y = layer.apply(x) as tf.Tensor;
    const [wg, wu, wd] = ['gate', 'up', 'down'].map((p) => layer.sublayers().get(p)!.getWeights()[0]!);
    const flat = x.reshape([6, 4]);
    const g = tf.matMul(flat, wg!);
    const reference = tf
      .matMul(tf.mul(tf.mul(g, tf.sigmoid(g)), tf.matMul(flat, wu!)), wd!)
      .reshape([2, 3, 4]);
    await expectClose(y, reference, 1e-5);
    expect(layer.weights.map((w) => w.originalName)).toEqual([
      'ffn/gate/kernel',
      'ffn/up/kernel',
      'ffn/down/kernel',
    ]);
    expect((layer.apply(tf.input({shape: [5, 4]})) as tf.SymbolicTensor).shape).toEqual([null, 5, 4]);
  });

  it('native projections (2-D MatMul) give the outputs and gradients of the composed ops', async () => {
    for (const args of [{hidden: 6}, {hidden: 5, useBias: true, lora: {rank: 2, targets: ['down']}}]) {
      const layer = new SwiGLU(args);
      const x = tf.variable(rand([2, 3, 4], 5));
      layer.build(x.shape);
      const probe = rand([2, 3, 4], 6);
      const variables = [x, ...layer.trainableWeights.map((w) => w.read() as tf.Variable)];
      const f = () => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, probe)) as tf.Scalar;
      await expectFusedEqualsComposedGrads(f, variables);
      tf.dispose([x, probe]);
    }
  });

  it('puts LoRA on the chosen projections', () => {
    const layer = new SwiGLU({hidden: 8, lora: {rank: 2, targets: ['down']}});
    layer.build([null, 4]);
    expect(layer.sublayers().get('down')).toBeInstanceOf(LoRADense);
    expect(layer.sublayers().get('gate')).not.toBeInstanceOf(LoRADense);
    expect(() => new SwiGLU({hidden: 8, lora: {rank: 2, targets: ['q']}})).toThrow(
      /use some of gate, up, down/,
    );
  });

  it('rejects a bad hidden size', () => {
    expect(() => new SwiGLU({hidden: 0})).toThrow(/hidden must be an integer >= 1, got 0/);
  });

  it('config round trips', () => {
    const args = {
      hidden: 5,
      useBias: true,
      lora: {rank: 1, alpha: 2, rslora: true, dropout: 0.1, targets: ['up']},
    };
    const config = new SwiGLU(args).getConfig();
    expect(config).toMatchObject(args);
    expect(SwiGLU.fromConfig(SwiGLU, config).getConfig()).toEqual(config);
  });

  it('save → load gives identical predictions', async () => {
    expect(
      await saveLoadDiff(new SwiGLU({hidden: 10, useBias: true, lora: {rank: 2, targets: ['gate']}}), [3, 4]),
    ).toBe(0);
  });

  it('leaks no tensors', async () => {
    const layer = new SwiGLU({hidden: 4});
    const x = rand([2, 4]);
    tf.dispose(layer.apply(x) as tf.Tensor);
    expect(await leakedTensors(() => tf.dispose(layer.apply(x, {training: true}) as tf.Tensor))).toBe(0);
    x.dispose();
  });
});
