import * as tf from '@tensorflow/tfjs';
import {afterEach, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {ConfigError} from '../../src/errors.js';
import {expertFfn, sliceExpert} from '../../src/layers/moe/expert-ffn.js';
import {routerZLoss, switchLoss} from '../../src/layers/moe/moe-losses.js';
import {routeTokens} from '../../src/layers/moe/routing.js';
import {MoE, type MoEArgs} from '../../src/layers/moe.js';
import {
  checkGradient,
  disposeWeights,
  leakedTensors,
  maxAbsDiff,
  rand,
  saveAndLoad,
} from './layer-test-utils.js';

beforeAll(async () => {
  await initBackend();
});

const made: MoE[] = [];
afterEach(() => {
  for (const layer of made.splice(0)) disposeWeights(layer);
});

function moe(args: Partial<MoEArgs> & {d?: number} = {}): MoE {
  const {d = 8, ...rest} = args;
  const layer = new MoE({numExperts: 4, topK: 2, expertHidden: 6, seed: 11, ...rest});
  layer.build([null, d]);
  made.push(layer);
  return layer;
}

function weight(layer: MoE, name: string): tf.LayerVariable {
  const w = layer.weights.find((v) => v.originalName.endsWith(name));
  if (!w) throw new Error(`no weight ${name} in ${layer.weights.map((v) => v.originalName)}`);
  return w;
}

/** y and the gradients of sum(y·probe) + aux w.r.t. every trainable weight and the input. */
function forwardAndGrads(layer: MoE, x: tf.Variable, dispatch: 'sparse' | 'dense', training: boolean) {
  const probe = rand(x.shape, 99);
  const vars = [...layer.trainableWeights.map((w) => w.read() as tf.Variable), x];
  const {value, grads} = tf.variableGrads(() => {
    const y = layer.apply(x, {training, dispatch}) as tf.Tensor;
    return tf.add(tf.sum(tf.mul(y, probe)), layer.takeAuxLoss()) as tf.Scalar;
  }, vars);
  const y = layer.apply(x, {training, dispatch}) as tf.Tensor;
  layer.takeAuxLoss().dispose();
  probe.dispose();
  return {value, grads, y, stats: layer.lastRoutingStats!};
}

describe('MoE sparse dispatch', () => {
  const cases: [string, Partial<MoEArgs>, number[]][] = [
    ['softmax top-2, rank 3', {}, [2, 5, 8]],
    [
      'sigmoid, normTopK, routeScale, temperature',
      {scoring: 'sigmoid', routeScale: 2.5, temperature: 0.7},
      [3, 8],
    ],
    ['groups + shared experts', {numExperts: 8, numGroups: 4, topKGroups: 2, numShared: 2}, [2, 6, 8]],
    ['gelu, top-3', {activation: 'gelu', topK: 3}, [10, 8]],
    ['relu, top-1, bias', {activation: 'relu', topK: 1, biasUpdateSpeed: 0.1, biasUpdate: 'manual'}, [10, 8]],
    ['capacity drops', {capacityFactor: 0.5, numShared: 1}, [2, 8, 8]],
    // The sparse path computes the router and its losses in JS (routeRows), the reference with tensor ops.
    [
      'every aux loss, softmax, normTopK, temperature',
      {normTopK: true, temperature: 1.3, auxLossCoef: 0.5, zLossCoef: 0.2, seqAuxLossCoef: 0.3},
      [3, 4, 8],
    ],
    [
      'every aux loss, sigmoid, groups, bias',
      {
        scoring: 'sigmoid',
        numGroups: 2,
        topKGroups: 1,
        auxLossCoef: 0.5,
        zLossCoef: 0.2,
        seqAuxLossCoef: 0.3,
        biasUpdateSpeed: 0.1,
        biasUpdate: 'manual',
      },
      [2, 6, 8],
    ],
  ];
  for (const [name, args, shape] of cases) {
    it(`equals the dense reference, forward and gradients: ${name}`, async () => {
      const layer = moe(args);
      if (args.biasUpdateSpeed) weight(layer, 'router/balance_bias').write(tf.tensor1d([0.3, -0.2, 0.1, 0]));
      const x = tf.variable(rand(shape, 5));
      const sparse = forwardAndGrads(layer, x, 'sparse', true);
      const dense = forwardAndGrads(layer, x, 'dense', true);
      expect(sparse.y.shape).toEqual(shape);
      expect(await maxAbsDiff(sparse.y, dense.y)).toBeLessThanOrEqual(1e-5);
      expect(Math.abs(sparse.value.dataSync()[0]! - dense.value.dataSync()[0]!)).toBeLessThanOrEqual(1e-4);
      expect(Object.keys(sparse.grads)).toHaveLength(layer.trainableWeights.length + 1);
      for (const key of Object.keys(sparse.grads)) {
        expect(await maxAbsDiff(sparse.grads[key]!, dense.grads[key]!), key).toBeLessThanOrEqual(1e-5);
      }
      // The router gets gradients through the chosen weights.
      const routerGrad = sparse.grads[(weight(layer, 'router/kernel').read() as tf.Variable).name]!;
      expect(tf.max(tf.abs(routerGrad)).dataSync()[0]).toBeGreaterThan(0);
      if (args.capacityFactor) expect(sparse.stats.droppedChoices).toBeGreaterThan(0);
      tf.dispose([x, sparse.value, sparse.y, dense.value, dense.y, sparse.grads, dense.grads]);
    });
  }

  it('keeps padding small when routing is skewed (chunks, or grouped rows on tfjs-node), and still equals the reference', async () => {
    const layer = moe({numExperts: 8, topK: 2});
    const kernel = weight(layer, 'router/kernel');
    kernel.write(tf.tidy(() => tf.add(tf.mul(rand([8, 8], 3), 0.1), tf.oneHot([0], 8).mul(2))));
    const x = tf.variable(tf.add(tf.abs(rand([96, 8], 4)), 0.5)); // every token prefers expert 0
    const sparse = forwardAndGrads(layer, x, 'sparse', false);
    const dense = forwardAndGrads(layer, x, 'dense', false);
    expect(sparse.stats.tokensPerExpert[0]).toBe(96);
    expect(sparse.stats.expertRows).toBeLessThan(8 * 96); // not every expert padded to the busiest
    expect(await maxAbsDiff(sparse.y, dense.y)).toBeLessThanOrEqual(1e-5);
    for (const key of Object.keys(sparse.grads)) {
      expect(await maxAbsDiff(sparse.grads[key]!, dense.grads[key]!), key).toBeLessThanOrEqual(1e-5);
    }
    tf.dispose([x, sparse.value, sparse.y, dense.value, dense.y, sparse.grads, dense.grads]);
  });

  it('with one expert and top-1 equals that expert MLP (plus shared experts when present)', async () => {
    for (const activation of ['swiglu', 'gelu', 'relu'] as const) {
      const layer = moe({numExperts: 1, topK: 1, activation});
      const x = rand([3, 4, 8], 2);
      const y = layer.apply(x) as tf.Tensor;
      const experts = {
        gate: activation === 'swiglu' ? weight(layer, 'experts/gate').read() : undefined,
        up: weight(layer, 'experts/up').read(),
        down: weight(layer, 'experts/down').read(),
      };
      const mlp = tf.tidy(() =>
        tf.reshape(expertFfn(tf.reshape(x, [12, 8]), sliceExpert(experts, 0), activation), [3, 4, 8]),
      );
      expect(await maxAbsDiff(y, mlp)).toBeLessThanOrEqual(1e-6);
      tf.dispose([x, y, mlp]);
    }
  });

  it('never runs every expert on every token', () => {
    const layer = moe({numExperts: 8, topK: 2, d: 8});
    const x = rand([64, 8], 7);
    tf.dispose(layer.apply(x) as tf.Tensor);
    const stats = layer.lastRoutingStats!;
    expect(stats.tokensPerExpert.reduce((a, b) => a + b, 0)).toBe(64 * 2);
    expect(stats.expertRows).toBeLessThan(64 * 8 * 0.75);
    x.dispose();
  });
});

describe('MoE router gradients', () => {
  it('match finite differences for the router weights, with and without the aux losses', async () => {
    for (const training of [false, true]) {
      const layer = moe({numExperts: 4, topK: 2, d: 5, expertHidden: 4, auxLossCoef: 0.5, zLossCoef: 0.1});
      const x = rand([6, 5], 21);
      const probe = rand([6, 5], 22);
      const router = weight(layer, 'router/kernel').read() as tf.Variable;
      // Larger router weights give clear top-k margins, so the finite steps do not flip a choice.
      router.assign(tf.tidy(() => tf.mul(rand([5, 4], 23), 2)));
      const f = () =>
        tf.tidy(() => {
          const y = layer.apply(x, {training}) as tf.Tensor;
          return tf.add(tf.sum(tf.mul(y, probe)), layer.takeAuxLoss()) as tf.Scalar;
        });
      await checkGradient(router, f, {samples: 20, eps: 1e-3, tol: 2e-2});
      tf.dispose([x, probe]);
    }
  });
});

describe('MoE aux losses', () => {
  it('adds coef·switch + coef·z-loss to fit, in training only', async () => {
    const layer = new MoE({numExperts: 4, expertHidden: 6, seed: 3, auxLossCoef: 0.5, zLossCoef: 0.2});
    const input = tf.input({shape: [5, 8]});
    const model = tf.model({inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor});
    model.compile({optimizer: tf.train.sgd(0), loss: 'meanSquaredError'});
    const x = rand([2, 5, 8], 1);
    const target = rand([2, 5, 8], 2);
    const mse = model.evaluate(x, target) as tf.Scalar;
    const expectedAux = tf.tidy(() => {
      const logits = tf.matMul(tf.reshape(x, [10, 8]), weight(layer, 'router/kernel').read()) as tf.Tensor2D;
      const routed = routeTokens(logits, layer.config);
      return tf.add(
        tf.mul(switchLoss(routed.probs, routed.indices, 2), 0.5),
        tf.mul(routerZLoss(routed.logits), 0.2),
      );
    });
    const trained = (await model.trainOnBatch(x, target)) as number;
    const aux = expectedAux.dataSync()[0]!;
    expect(aux).toBeGreaterThan(0.4);
    expect(trained).toBeCloseTo(mse.dataSync()[0]! + aux, 4);
    // Inference adds nothing.
    tf.dispose(model.apply(x) as tf.Tensor);
    const noAux = layer.takeAuxLoss();
    expect(noAux.dataSync()[0]).toBe(0);
    tf.dispose([x, target, mse, expectedAux, noAux]);
    model.dispose();
  });

  it('reaches fit through a nested container', async () => {
    const inner = tf.sequential({
      layers: [new MoE({numExperts: 4, expertHidden: 4, inputShape: [8], auxLossCoef: 1})],
    });
    const outer = tf.sequential({layers: [inner, tf.layers.dense({units: 1})]});
    outer.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
    const x = rand([16, 8], 1);
    const y = tf.zeros([16, 1]);
    const mse = outer.evaluate(x, y) as tf.Scalar;
    const trained = (await outer.trainOnBatch(x, y)) as number;
    expect(trained - mse.dataSync()[0]!).toBeGreaterThan(0.9); // the Switch loss is >= 1 at α = 1
    tf.dispose([x, y, mse]);
    outer.dispose();
  });

  it('adds the sequence-wise loss per sequence', () => {
    const layer = moe({auxLossCoef: 0, zLossCoef: 0, seqAuxLossCoef: 1});
    const x = rand([3, 4, 8], 8);
    tf.dispose(layer.apply(x, {training: true}) as tf.Tensor);
    const loss = layer.takeAuxLoss();
    expect(loss.dataSync()[0]).toBeGreaterThan(0.9); // E·Σ f·P >= 1 per sequence, with equality only if balanced
    tf.dispose([x, loss]);
  });
});

describe('MoE training', () => {
  it('trains in fit and in a custom loop, without leaking tensors', async () => {
    const layer = new MoE({numExperts: 4, expertHidden: 8, seed: 1, jitter: 0.05, biasUpdateSpeed: 0.01});
    const input = tf.input({shape: [6, 8]});
    const model = tf.model({inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor});
    model.compile({optimizer: tf.train.adam(0.01), loss: 'meanSquaredError'});
    const x = rand([8, 6, 8], 1);
    const y = tf.tidy(() => tf.tanh(tf.mul(x, 2)));
    await model.fit(x, y, {epochs: 1, batchSize: 4, verbose: 0}); // creates optimizer slots
    // The bias moves by ±γ per step, so it can come back to exactly 0 by the end (it did once in a
    // CI run): what fit must show is that it moved after some batch.
    let biasMoved = false;
    const onBatchEnd = async () => {
      biasMoved ||= [...layer.getRoutingBias()].some((b) => b !== 0);
    };
    const leakedFit = await leakedTensors(async () => {
      const h = await model.fit(x, y, {epochs: 5, batchSize: 4, verbose: 0, callbacks: {onBatchEnd}});
      expect(h.history.loss.at(-1)).toBeLessThan(h.history.loss[0] as number);
    });
    expect(leakedFit).toBe(0);
    expect(biasMoved).toBe(true);

    const optimizer = tf.train.adam(0.01);
    const step = () =>
      optimizer.minimize(() => {
        const out = layer.apply(x, {training: true}) as tf.Tensor;
        return tf.add(tf.losses.meanSquaredError(y, out), layer.takeAuxLoss()) as tf.Scalar;
      }, true)!;
    step().dispose();
    let first = 0;
    let last = 0;
    const leakedLoop = await leakedTensors(() => {
      for (let i = 0; i < 5; i++) {
        const loss = step();
        if (i === 0) first = loss.dataSync()[0]!;
        last = loss.dataSync()[0]!;
        loss.dispose();
      }
    });
    expect(leakedLoop).toBe(0);
    expect(last).toBeLessThan(first);
    const leakedPredict = await leakedTensors(() => {
      tf.dispose(model.predict(x));
      tf.dispose(layer.apply(x, {training: true}) as tf.Tensor); // an aux loss nobody takes is dropped on the next call
      tf.dispose(layer.apply(x, {training: true}) as tf.Tensor);
      layer.takeAuxLoss().dispose();
    });
    expect(leakedPredict).toBe(0);
    tf.dispose([x, y]);
    optimizer.dispose();
    model.dispose();
  });

  it('applies noisy gating and capacity only in training', () => {
    const layer = moe({jitter: 0.5, capacityFactor: 0.5});
    const x = rand([16, 8], 3);
    const a = layer.apply(x) as tf.Tensor;
    const b = layer.apply(x) as tf.Tensor;
    expect(layer.lastRoutingStats!.droppedChoices).toBe(0);
    expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBe(0);
    tf.dispose(layer.apply(x, {training: true}) as tf.Tensor);
    expect(layer.lastRoutingStats!.capacity).toBe(4);
    expect(layer.lastRoutingStats!.droppedChoices).toBeGreaterThan(0);
    layer.takeAuxLoss().dispose();
    tf.dispose([x, a, b]);
  });
});

describe('MoE config', () => {
  it('rejects invalid configs, naming the argument and the allowed range', () => {
    const base: MoEArgs = {numExperts: 8, expertHidden: 4};
    const bad: [Partial<MoEArgs>, RegExp][] = [
      [{topK: 9}, /topK must be an integer in \[1, 8\], got 9/],
      [{topK: 0}, /topK must be an integer in \[1, 8\]/],
      [{numExperts: 0}, /numExperts must be an integer >= 1, got 0/],
      [{expertHidden: 2.5}, /expertHidden must be an integer >= 1, got 2.5/],
      [{numGroups: 3}, /numGroups \(3\) must divide numExperts \(8\)/],
      [{numGroups: 4, topKGroups: 5}, /topKGroups must be an integer in \[1, 4\], got 5/],
      [{numGroups: 4, topKGroups: 1, topK: 3}, /topK \(3\) must be <= topKGroups·numExperts\/numGroups = 2/],
      [{activation: 'tanh' as never}, /unknown activation 'tanh' — use one of swiglu, gelu, relu/],
      [{scoring: 'argmax' as never}, /unknown scoring 'argmax' — use one of softmax, sigmoid/],
      [{jitter: 1}, /jitter must be in \[0, 1\), got 1/],
      [{temperature: 0}, /temperature must be a finite number > 0, got 0/],
      [{capacityFactor: -1}, /capacityFactor must be in \[0, Infinity\], got -1/],
      [{auxLossCoef: -0.1}, /auxLossCoef must be in \[0, Infinity\]/],
      [{biasUpdate: 'epoch' as never}, /unknown biasUpdate 'epoch' — use one of step, manual/],
    ];
    for (const [args, message] of bad) {
      expect(() => new MoE({...base, ...args})).toThrow(ConfigError);
      expect(() => new MoE({...base, ...args})).toThrow(message);
    }
  });

  it('getConfig holds every argument with defaults resolved and round-trips', () => {
    const layer = new MoE({numExperts: 4, expertHidden: 6, scoring: 'sigmoid', name: 'ffn_moe'});
    const config = layer.getConfig();
    expect(config).toMatchObject({
      name: 'ffn_moe',
      numExperts: 4,
      topK: 2,
      expertHidden: 6,
      numShared: 0,
      activation: 'swiglu',
      scoring: 'sigmoid',
      normTopK: true,
      routeScale: 1,
      temperature: 1,
      jitter: 0,
      capacityFactor: 0,
      numGroups: 1,
      topKGroups: 1,
      auxLossCoef: 0.01,
      zLossCoef: 0,
      seqAuxLossCoef: 0,
      biasUpdateSpeed: 0,
      biasUpdate: 'step',
      seed: null,
    });
    expect(tf.serialization.SerializationMap.getMap().classNameMap.MoE?.[0]).toBe(MoE);
    const copy = MoE.fromConfig(MoE, config);
    expect(copy.getConfig()).toEqual(config);
    expect(new MoE({numExperts: 1, expertHidden: 2}).getConfig().topK).toBe(1);
  });

  it('saves and loads in the tfjs format with identical predictions, routing bias included', async () => {
    const input = tf.input({shape: [5, 8]});
    const layer = new MoE({numExperts: 4, expertHidden: 6, numShared: 1, biasUpdateSpeed: 0.05, seed: 4});
    const model = tf.model({inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor});
    const x = rand([3, 5, 8], 6);
    tf.dispose(model.apply(x, {training: true}) as tf.Tensor);
    layer.takeAuxLoss().dispose();
    expect([...layer.getRoutingBias()].some((b) => b !== 0)).toBe(true);
    const loaded = await saveAndLoad(model);
    const a = model.predict(x) as tf.Tensor;
    const b = loaded.predict(x) as tf.Tensor;
    expect(await maxAbsDiff(a, b)).toBe(0);
    const loadedLayer = loaded.layers[1] as MoE;
    expect(loadedLayer).toBeInstanceOf(MoE);
    expect([...loadedLayer.getRoutingBias()]).toEqual([...layer.getRoutingBias()]);
    expect(loaded.getWeights().map((w) => w.shape)).toEqual(model.getWeights().map((w) => w.shape));
    tf.dispose([x, a, b]);
    model.dispose();
    loaded.dispose();
  });

  it('gives a symbolic output of the input shape', () => {
    const input = tf.input({shape: [7, 8]});
    const out = new MoE({numExperts: 2, expertHidden: 4}).apply(input) as tf.SymbolicTensor;
    expect(out.shape).toEqual([null, 7, 8]);
    const flat = tf.input({shape: [8]});
    expect((new MoE({numExperts: 2, expertHidden: 4}).apply(flat) as tf.SymbolicTensor).shape).toEqual([
      null,
      8,
    ]);
  });
});
