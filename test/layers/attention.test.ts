import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {ConfigError} from '../../src/errors.js';
import {Attention, type AttentionArgs} from '../../src/layers/attention.js';
import {disposeKVCache, type KVCache} from '../../src/layers/kv-cache.js';
import {LoRADense} from '../../src/layers/lora-dense.js';
import {expectFusedEqualsComposedGrads} from '../helpers/fused.js';
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

function built(args: AttentionArgs, seq = 5): Attention {
  const layer = new Attention(args);
  layer.build([null, seq, args.dModel]);
  return layer;
}

/** Runs x [1, T, d] through the cache in chunks of the given sizes and concatenates the outputs. */
function decodeInChunks(layer: Attention, x: tf.Tensor3D, chunks: number[]): tf.Tensor {
  let cache: KVCache | null = null;
  const outputs: tf.Tensor[] = [];
  let start = 0;
  for (const size of chunks) {
    const piece = x.slice([0, start, 0], [-1, size, -1]);
    const step: {output: tf.Tensor3D; cache: KVCache} = layer.callWithCache(piece, cache);
    disposeKVCache(cache);
    piece.dispose();
    cache = step.cache;
    outputs.push(step.output);
    start += size;
  }
  disposeKVCache(cache);
  const out = tf.concat(outputs, 1);
  tf.dispose(outputs);
  return out;
}

describe('Attention', () => {
  const configs: AttentionArgs[] = [
    {dModel: 8, numHeads: 2},
    {dModel: 16, numHeads: 4, numKvHeads: 2, useBias: true},
    {dModel: 8, numHeads: 4, numKvHeads: 1, rope: false},
    // Heads that do not tile dModel, as structured pruning leaves them.
    {dModel: 16, numHeads: 3, headDim: 4},
    {dModel: 8, numHeads: 6, numKvHeads: 3, headDim: 2, useBias: true},
  ];

  it('keeps the input shape, symbolically and eagerly', () => {
    for (const args of configs) {
      const layer = new Attention(args);
      const sym = layer.apply(tf.input({shape: [7, args.dModel]})) as tf.SymbolicTensor;
      expect(sym.shape).toEqual([null, 7, args.dModel]);
      const x = rand([2, 7, args.dModel]);
      const y = layer.apply(x) as tf.Tensor;
      expect(y.shape).toEqual([2, 7, args.dModel]);
      tf.dispose([x, y]);
    }
  });

  it('is causal: later tokens do not change earlier outputs', async () => {
    const layer = built(configs[1]!);
    const x = rand([1, 6, 16], 2);
    const changed = tf.concat([x.slice([0, 0, 0], [1, 4, 16]), rand([1, 2, 16], 3)], 1);
    const a = layer.apply(x) as tf.Tensor;
    const b = layer.apply(changed) as tf.Tensor;
    expect(await maxAbsDiff(a.slice([0, 0, 0], [1, 4, 16]), b.slice([0, 0, 0], [1, 4, 16]))).toBe(0);
    expect(await maxAbsDiff(a, b)).toBeGreaterThan(1e-4);
    tf.dispose([x, changed, a, b]);
  });

  it('cached decoding equals the full causal forward', async () => {
    for (const args of configs) {
      const layer = built(args);
      const x = rand([2, 6, args.dModel], 4) as tf.Tensor3D;
      const full = layer.apply(x) as tf.Tensor;
      for (const chunks of [[1, 1, 1, 1, 1, 1], [3, 1, 2], [6]]) {
        const stepped = decodeInChunks(layer, x, chunks);
        await expectClose(full, stepped, 1e-5);
        stepped.dispose();
      }
      tf.dispose([x, full]);
    }
  });

  it('cached decoding follows weight changes and LoRA adapters', async () => {
    const layer = built({dModel: 16, numHeads: 4, numKvHeads: 2, useBias: true});
    const x = rand([1, 4, 16], 11) as tf.Tensor3D;
    decodeInChunks(layer, x, [2, 2]).dispose(); // builds the fused decoding kernel
    for (const p of ['q', 'k', 'v', 'o']) {
      const child = layer.sublayers().get(p)!;
      const fresh = child.getWeights().map((w, i) => rand(w.shape, 20 + i));
      child.setWeights(fresh);
      tf.dispose(fresh);
    }
    const full = layer.apply(x) as tf.Tensor;
    const stepped = decodeInChunks(layer, x, [2, 1, 1]);
    await expectClose(full, stepped, 1e-5);
    const adapted = built({dModel: 8, numHeads: 2, lora: {rank: 2, targets: ['q']}});
    const y = rand([2, 3, 8], 12) as tf.Tensor3D;
    const fullAdapted = adapted.apply(y) as tf.Tensor;
    const steppedAdapted = decodeInChunks(adapted, y, [1, 1, 1]);
    await expectClose(fullAdapted, steppedAdapted, 1e-5);
    tf.dispose([x, full, stepped, y, fullAdapted, steppedAdapted]);
  });

  it('grouped KV heads equal full heads with the kv projections repeated', async () => {
    // numKvHeads 1 of 2 heads == 2 heads whose k and v kernels are the single kv head twice.
    const gqa = built({dModel: 8, numHeads: 2, numKvHeads: 1});
    const mha = built({dModel: 8, numHeads: 2});
    const [q, k, v, o] = ['q', 'k', 'v', 'o'].map((p) => gqa.sublayers().get(p)!.getWeights()[0]!);
    const twice = (w: tf.Tensor) => tf.concat([w, w], 1);
    const values = [q!, twice(k!), twice(v!), o!];
    for (const [i, p] of ['q', 'k', 'v', 'o'].entries()) mha.sublayers().get(p)!.setWeights([values[i]!]);
    const x = rand([2, 5, 8], 6);
    const a = gqa.apply(x) as tf.Tensor;
    const b = mha.apply(x) as tf.Tensor;
    await expectClose(a, b, 1e-5);
    // getWeights() returns the variables' own tensors: dispose only the concatenations.
    tf.dispose([x, a, b, values[1]!, values[2]!]);
  });

  it('training (q, k, v as one product) gives the outputs and gradients of inference', async () => {
    for (const args of configs) {
      const layer = built(args);
      const x = tf.variable(rand([2, 5, args.dModel], 9));
      const probe = rand([2, 5, args.dModel], 10);
      const variables = [x, ...layer.trainableWeights.map((w) => w.read() as tf.Variable)];
      const run = (training: boolean) =>
        tf.variableGrads(
          () => tf.sum(tf.mul(layer.apply(x, {training}) as tf.Tensor, probe)) as tf.Scalar,
          variables,
        );
      const [fused, plain] = [run(true), run(false)];
      await expectClose(fused.value, plain.value, 1e-5);
      for (const v of variables) await expectClose(fused.grads[v.name]!, plain.grads[v.name]!, 1e-5);
      tf.dispose([
        x,
        probe,
        fused.value,
        plain.value,
        ...Object.values(fused.grads),
        ...Object.values(plain.grads),
      ]);
    }
  });

  it('native projections (2-D MatMul) give the outputs and gradients of the composed ops', async () => {
    for (const args of configs) {
      const layer = built(args);
      const x = tf.variable(rand([2, 5, args.dModel], 9));
      const probe = rand([2, 5, args.dModel], 10);
      const variables = [x, ...layer.trainableWeights.map((w) => w.read() as tf.Variable)];
      for (const training of [true, false]) {
        const f = () => tf.sum(tf.mul(layer.apply(x, {training}) as tf.Tensor, probe)) as tf.Scalar;
        await expectFusedEqualsComposedGrads(f, variables);
      }
      tf.dispose([x, probe]);
    }
  });

  it('gradients of the input and the projections match finite differences', async () => {
    const layer = built({dModel: 4, numHeads: 2, numKvHeads: 1}, 3);
    const x = tf.variable(rand([1, 3, 4], 7));
    const probe = rand([1, 3, 4], 8);
    const loss = () => tf.tidy(() => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, probe)) as tf.Scalar);
    await checkGradient(x, loss);
    for (const p of ['q', 'k', 'v', 'o']) {
      await checkGradient(layer.sublayers().get(p)!.weights[0]!.read() as tf.Variable, loss);
    }
    tf.dispose([x, probe]);
  });

  it('names child weights by path and trains them all', () => {
    const layer = new Attention({dModel: 8, numHeads: 2, numKvHeads: 1, name: 'attn'});
    layer.build([null, 4, 8]);
    expect(layer.weights.map((w) => w.originalName)).toEqual([
      'attn/q/kernel',
      'attn/k/kernel',
      'attn/v/kernel',
      'attn/o/kernel',
    ]);
    expect(layer.countParams()).toBe(8 * 8 + 8 * 4 * 2 + 8 * 8);
    layer.trainable = false;
    expect(layer.trainableWeights).toHaveLength(0);
    expect(layer.nonTrainableWeights).toHaveLength(4);
  });

  it('LoRA on q and v: LoRADense children, a fresh adapter changes nothing', async () => {
    const base = built({dModel: 8, numHeads: 2, name: 'a'});
    const adapted = built({dModel: 8, numHeads: 2, name: 'a', lora: {rank: 2, targets: ['q', 'v']}});
    expect(adapted.sublayers().get('q')).toBeInstanceOf(LoRADense);
    expect(adapted.sublayers().get('k')).not.toBeInstanceOf(LoRADense);
    for (const p of ['q', 'k', 'v', 'o']) {
      const w = base.sublayers().get(p)!.getWeights();
      const child = adapted.sublayers().get(p)!;
      if (child instanceof LoRADense) child.setBaseWeights(w);
      else child.setWeights(w);
    }
    expect(adapted.trainableWeights.map((w) => w.originalName)).toEqual([
      'a/q/lora_a',
      'a/q/lora_b',
      'a/k/kernel',
      'a/v/lora_a',
      'a/v/lora_b',
      'a/o/kernel',
    ]);
    const x = rand([1, 4, 8]);
    const a = base.apply(x) as tf.Tensor;
    const b = adapted.apply(x) as tf.Tensor;
    expect(await maxAbsDiff(a, b)).toBe(0);
    tf.dispose([x, a, b]);
  });

  it('rejects bad configs naming the argument and range', () => {
    expect(() => new Attention({dModel: 10, numHeads: 3})).toThrow(ConfigError);
    expect(() => new Attention({dModel: 10, numHeads: 3})).toThrow(
      /numHeads \(3\) must divide dModel \(10\)/,
    );
    expect(() => new Attention({dModel: 12, numHeads: 4, numKvHeads: 3})).toThrow(
      /numKvHeads \(3\) must divide numHeads/,
    );
    expect(() => new Attention({dModel: 12, numHeads: 4, numKvHeads: 8})).toThrow(
      /numKvHeads must be an integer in \[1, 4\]/,
    );
    expect(() => new Attention({dModel: 6, numHeads: 2})).toThrow(/must be even for RoPE/);
    expect(() => new Attention({dModel: 8, numHeads: 3, headDim: 3})).toThrow(/headDim = 3 must be even/);
    expect(() => new Attention({dModel: 8, numHeads: 3, headDim: 0})).toThrow(/headDim must be an integer/);
    expect(() => new Attention({dModel: 8, numHeads: 2, dropout: 1.5})).toThrow(/dropout must be in/);
    expect(() => new Attention({dModel: 8, numHeads: 2, lora: {rank: 2, targets: ['x']}})).toThrow(
      /lora target 'x' is not a projection here — use some of q, k, v, o/,
    );
    expect(() => new Attention({dModel: 8, numHeads: 2, lora: {rank: 0, targets: ['q']}})).toThrow(/rank/);
  });

  it('config round trips with every argument', () => {
    const args = {
      dModel: 8,
      numHeads: 4,
      numKvHeads: 2,
      headDim: 6,
      useBias: true,
      dropout: 0.1,
      rope: true,
      ropeTheta: 500,
      lora: {rank: 2, alpha: 4, rslora: false, dropout: 0, targets: ['q', 'o']},
    };
    const config = new Attention(args).getConfig();
    expect(config).toMatchObject(args);
    expect((Attention.fromConfig(Attention, config) as Attention).getConfig()).toEqual(config);
  });

  it('headDim: projections numHeads·headDim wide; a config saved without it loads as dModel/numHeads', () => {
    const narrow = built({dModel: 16, numHeads: 3, numKvHeads: 1, headDim: 4});
    expect(narrow.weights.map((w) => w.shape)).toEqual([
      [16, 12],
      [16, 4],
      [16, 4],
      [12, 16],
    ]);
    const {headDim: _headDim, ...old} = new Attention({dModel: 16, numHeads: 4}).getConfig();
    const loaded = Attention.fromConfig(Attention, old) as Attention;
    expect(loaded.headDim).toBe(4);
    expect(loaded.getConfig().headDim).toBe(4);
    disposeWeights(narrow);
  });

  it('save → load in the tfjs format gives identical predictions', async () => {
    const input = tf.input({shape: [5, 8]});
    let h = new Attention({dModel: 8, numHeads: 2, numKvHeads: 1, name: 'attn0'}).apply(
      input,
    ) as tf.SymbolicTensor;
    h = new Attention({
      dModel: 8,
      numHeads: 4,
      useBias: true,
      name: 'attn1',
      lora: {rank: 2, targets: ['v']},
    }).apply(h) as tf.SymbolicTensor;
    h = new Attention({dModel: 8, numHeads: 3, headDim: 2, name: 'attn2'}).apply(h) as tf.SymbolicTensor;
    const model = tf.model({inputs: input, outputs: h});
    const loaded = await saveAndLoad(model);
    expect(loaded.getWeights().length).toBe(model.getWeights().length);
    const x = rand([2, 5, 8]);
    const a = model.predict(x) as tf.Tensor;
    const b = loaded.predict(x) as tf.Tensor;
    expect(await maxAbsDiff(a, b)).toBe(0);
    tf.dispose([x, a, b]);
    model.dispose();
    loaded.dispose();
  });

  it('trains with fit', async () => {
    const input = tf.input({shape: [4, 8]});
    const out = new Attention({dModel: 8, numHeads: 2, dropout: 0.1}).apply(input) as tf.SymbolicTensor;
    const model = tf.model({inputs: input, outputs: out});
    model.compile({optimizer: tf.train.adam(0.02), loss: 'meanSquaredError'});
    const x = rand([16, 4, 8], 1);
    const y = tf.tidy(() => tf.cumsum(x, 1).div(4));
    const history = await model.fit(x, y, {epochs: 15, verbose: 0});
    const losses = history.history.loss as number[];
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('leaks no tensors', async () => {
    const layer = built({dModel: 8, numHeads: 4, numKvHeads: 2, dropout: 0.2});
    const x = rand([1, 4, 8]) as tf.Tensor3D;
    const leaked = await leakedTensors(() => {
      tf.dispose(layer.apply(x, {training: true}) as tf.Tensor);
      decodeInChunks(layer, x, [2, 1, 1]).dispose();
      decodeInChunks(layer, x, [1, 3]).dispose();
      // The fused q/k/v kernel of cached decoding lives until released (or the layer is disposed).
      layer.releaseDecodeWeights();
    });
    expect(leaked).toBe(0);
    tf.dispose(x);
    disposeWeights(layer);
  });
});
