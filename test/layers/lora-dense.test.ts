import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {ConfigError, ModelError} from '../../src/errors.js';
import {LoRADense, loraScale} from '../../src/layers/lora-dense.js';
import {
  checkGradient,
  disposeWeights,
  expectClose,
  leakedTensors,
  maxAbsDiff,
  rand,
  saveAndLoad,
} from './layer-test-utils.js';

beforeAll(async () => {
  await initBackend();
});

function builtDense(
  units: number,
  inDim: number,
  args: Partial<Parameters<typeof tf.layers.dense>[0]> = {},
): tf.layers.Layer {
  const dense = tf.layers.dense({
    units,
    kernelInitializer: 'glorotNormal',
    biasInitializer: 'randomNormal',
    ...args,
  });
  dense.build([null, inDim]);
  return dense;
}

/** Gives the adapter non-zero weights so fused-vs-unfused comparisons mean something. */
function randomizeAdapter(layer: LoRADense, seed = 3): void {
  const [a, b] = layer.getAdapterWeights();
  const values = [rand(a!.shape, seed), rand(b!.shape, seed + 1)];
  layer.setAdapterWeights(values);
  tf.dispose([a!, b!, ...values]);
}

describe('LoRADense', () => {
  it('a fresh adapter equals the base layer exactly', async () => {
    for (const [activation, useBias] of [
      ['linear', true],
      ['relu', false],
      ['gelu', true],
    ] as const) {
      const dense = builtDense(5, 7, {activation, useBias});
      const lora = LoRADense.fromDense(dense, {rank: 3, alpha: 6});
      const x = rand([2, 4, 7]);
      const base = dense.apply(x) as tf.Tensor;
      const adapted = lora.apply(x) as tf.Tensor;
      expect(await maxAbsDiff(base, adapted)).toBe(0);
      expect(lora.name).toBe(dense.name);
      tf.dispose([x, base, adapted]);
    }
  });

  it('base weights are frozen; only A and B train', () => {
    const lora = LoRADense.fromDense(builtDense(4, 6), {rank: 2});
    expect(lora.trainableWeights.map((w) => w.originalName.split('/').at(-1))).toEqual(['lora_a', 'lora_b']);
    expect(lora.nonTrainableWeights.map((w) => w.originalName.split('/').at(-1))).toEqual(['kernel', 'bias']);
    expect(lora.countParams()).toBe(6 * 4 + 4 + 6 * 2 + 2 * 4);
  });

  it('fuse() returns a plain Dense equal to the adapted layer', async () => {
    for (const spec of [
      {rank: 2, alpha: 4},
      {rank: 4, alpha: 8, rslora: true},
    ]) {
      const dense = builtDense(6, 5, {activation: 'tanh'});
      const lora = LoRADense.fromDense(dense, spec);
      randomizeAdapter(lora);
      const fused = lora.fuse();
      expect(fused.getClassName()).toBe('Dense');
      expect(fused.getConfig()).toMatchObject({units: 6, activation: 'tanh', useBias: true, name: lora.name});
      const x = rand([3, 5], 9);
      const a = lora.apply(x) as tf.Tensor;
      const b = fused.apply(x) as tf.Tensor;
      const base = dense.apply(x) as tf.Tensor;
      await expectClose(a, b, 1e-5);
      // The adapter changed the output, so the equality above is not vacuous.
      expect(await maxAbsDiff(a, base)).toBeGreaterThan(1e-3);
      tf.dispose([x, a, b, base]);
      disposeWeights(fused);
    }
  });

  it('scale is alpha/r, or alpha/sqrt(r) with rslora', () => {
    expect(loraScale({rank: 4, alpha: 8, rslora: false, dropout: 0})).toBe(2);
    expect(loraScale({rank: 4, alpha: 8, rslora: true, dropout: 0})).toBe(4);
    expect(new LoRADense({units: 2, rank: 8}).lora.alpha).toBe(8);
  });

  it('gradients of A and B match finite differences', async () => {
    const lora = LoRADense.fromDense(builtDense(3, 4), {rank: 2, alpha: 3});
    randomizeAdapter(lora, 11);
    const x = rand([5, 4], 12);
    const probe = rand([5, 3], 13);
    const loss = () => tf.tidy(() => tf.sum(tf.mul(lora.apply(x) as tf.Tensor, probe)) as tf.Scalar);
    for (const w of lora.trainableWeights) await checkGradient(w.read() as tf.Variable, loss);
    tf.dispose([x, probe]);
  });

  it('dropout hits the adapter in training only', async () => {
    const lora = LoRADense.fromDense(builtDense(4, 8), {rank: 4, dropout: 0.5});
    randomizeAdapter(lora);
    const x = rand([16, 8]);
    const a = lora.apply(x) as tf.Tensor;
    const b = lora.apply(x, {training: false}) as tf.Tensor;
    const c = lora.apply(x, {training: true}) as tf.Tensor;
    expect(await maxAbsDiff(a, b)).toBe(0);
    expect(await maxAbsDiff(a, c)).toBeGreaterThan(0);
    tf.dispose([x, a, b, c]);
  });

  it('rejects bad configs naming the argument and range', () => {
    expect(() => new LoRADense({units: 4, rank: 0})).toThrow(ConfigError);
    expect(() => new LoRADense({units: 4, rank: 0})).toThrow(/rank must be an integer >= 1, got 0/);
    expect(() => new LoRADense({units: 4, rank: 2, dropout: 1})).toThrow(/dropout must be in \[0, 1\)/);
    expect(() => new LoRADense({units: 4, rank: 2, alpha: -1})).toThrow(/alpha/);
    // biome-ignore lint/suspicious/noExplicitAny: an invalid activation on purpose
    expect(() => new LoRADense({units: 4, rank: 2, activation: 'nope' as any})).toThrow(
      /unknown activation 'nope'/,
    );
    expect(() => LoRADense.fromDense(tf.layers.dense({units: 2}), {rank: 1})).toThrow(ModelError);
    expect(() => LoRADense.fromDense(tf.layers.flatten(), {rank: 1})).toThrow(/not a Dense/);
  });

  it('config round trips with every argument', () => {
    const args = {
      units: 3,
      activation: 'relu',
      useBias: false,
      rank: 2,
      alpha: 5,
      rslora: true,
      dropout: 0.1,
    } as const;
    const config = new LoRADense(args).getConfig();
    expect(config).toMatchObject(args);
    const copy = LoRADense.fromConfig(LoRADense, config) as LoRADense;
    expect(copy.getConfig()).toEqual(config);
  });

  it('save → load in the tfjs format gives identical predictions', async () => {
    const input = tf.input({shape: [6]});
    const hidden = tf.layers
      .dense({units: 8, activation: 'relu', name: 'hidden'})
      .apply(input) as tf.SymbolicTensor;
    const head = new LoRADense({units: 3, rank: 2, alpha: 4, name: 'head'}).apply(
      hidden,
    ) as tf.SymbolicTensor;
    const model = tf.model({inputs: input, outputs: head});
    randomizeAdapter(model.getLayer('head') as LoRADense);
    const loaded = await saveAndLoad(model);
    expect(loaded.getLayer('head')).toBeInstanceOf(LoRADense);
    const x = rand([4, 6]);
    const a = model.predict(x) as tf.Tensor;
    const b = loaded.predict(x) as tf.Tensor;
    expect(await maxAbsDiff(a, b)).toBe(0);
    tf.dispose([x, a, b]);
    model.dispose();
    loaded.dispose();
  });

  it('trains with fit: only the adapter moves', async () => {
    const input = tf.input({shape: [4]});
    const out = new LoRADense({units: 1, rank: 2, name: 'lin'}).apply(input) as tf.SymbolicTensor;
    const model = tf.model({inputs: input, outputs: out});
    const layer = model.getLayer('lin') as LoRADense;
    const [kernelBefore] = layer.mergedWeights();
    const baseBefore = layer.nonTrainableWeights[0]!.read().clone();
    model.compile({optimizer: tf.train.adam(0.05), loss: 'meanSquaredError'});
    const x = rand([32, 4], 5);
    const y = tf.tidy(() => tf.sum(x, 1, true));
    const history = await model.fit(x, y, {epochs: 20, verbose: 0});
    const losses = history.history.loss as number[];
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
    expect(await maxAbsDiff(baseBefore, layer.nonTrainableWeights[0]!.read())).toBe(0);
    const [kernelAfter] = layer.mergedWeights();
    expect(await maxAbsDiff(kernelBefore!, kernelAfter!)).toBeGreaterThan(0);
    tf.dispose([kernelBefore!, kernelAfter!, baseBefore, x, y]);
    model.dispose();
  });

  it('leaks no tensors', async () => {
    const dense = builtDense(4, 3);
    const lora = LoRADense.fromDense(dense, {rank: 2, dropout: 0.2});
    const x = rand([2, 3]);
    const leaked = await leakedTensors(() => {
      const y1 = lora.apply(x, {training: true}) as tf.Tensor;
      const y2 = lora.apply(x) as tf.Tensor;
      const merged = lora.mergedWeights();
      const fused = lora.fuse();
      tf.dispose([y1, y2, ...merged]);
      disposeWeights(fused);
    });
    expect(leaked).toBe(0);
    tf.dispose(x);
  });
});
