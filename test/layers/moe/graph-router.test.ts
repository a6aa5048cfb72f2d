import * as tf from '@tensorflow/tfjs';
import {afterEach, describe, expect, it} from 'vitest';
import {initBackend} from '../../../src/backend/backend.js';
import {graphRoutingCovers} from '../../../src/layers/moe/graph-router.js';
import {MoE, type MoEArgs} from '../../../src/layers/moe.js';
import {disposeWeights, leakedTensors, maxAbsDiff, rand} from '../layer-test-utils.js';

// The in-graph router (TopKV2, SplitV; src/layers/moe/graph-router.ts, graph-dispatch.ts) against
// the JS router (router-op.ts) on the same layer and input: outputs, every gradient and the aux loss
// to 1e-5, the load the same. tfjs-node only: elsewhere the JS router is the only one.
await initBackend();
const native = graphRoutingCovers(
  {
    topK: 2,
    scoring: 'softmax',
    normTopK: false,
    routeScale: 1,
    temperature: 1,
    numGroups: 1,
    topKGroups: 1,
    biasUpdateSpeed: 0,
  },
  null,
);

const made: MoE[] = [];
afterEach(() => {
  for (const layer of made.splice(0)) disposeWeights(layer);
});

function moe(args: Partial<MoEArgs>, d: number): MoE {
  const layer = new MoE({numExperts: 4, topK: 2, expertHidden: 6, seed: 5, ...args});
  layer.build([null, d]);
  made.push(layer);
  return layer;
}

/** y, the aux loss, and the gradients of sum(y·probe) + aux w.r.t. every trainable weight and x. */
function run(layer: MoE, x: tf.Variable, router: 'graph' | 'js', training: boolean) {
  const probe = rand(x.shape, 99);
  const vars = [...layer.trainableWeights.map((w) => w.read() as tf.Variable), x];
  let aux = 0;
  const {value, grads} = tf.variableGrads(() => {
    const y = layer.apply(x, {training, router}) as tf.Tensor;
    const a = layer.takeAuxLoss();
    aux = a.dataSync()[0]!;
    return tf.add(tf.sum(tf.mul(y, probe)), a) as tf.Scalar;
  }, vars);
  const y = layer.apply(x, {training, router}) as tf.Tensor;
  layer.takeAuxLoss().dispose();
  probe.dispose();
  return {value, grads, y, aux, load: layer.lastRoutingStats!.tokensPerExpert};
}

describe.skipIf(!native)('MoE in-graph router (tfjs-node)', () => {
  const cases: [string, Partial<MoEArgs>, number[]][] = [
    [
      'moe-lm: softmax top-2, normTopK, shared experts, Switch loss',
      {normTopK: true, numShared: 2},
      [2, 6, 8],
    ],
    [
      'sigmoid, routeScale, temperature, every aux loss',
      {
        scoring: 'sigmoid',
        routeScale: 2.5,
        temperature: 0.7,
        zLossCoef: 0.2,
        seqAuxLossCoef: 0.3,
        auxLossCoef: 0.5,
      },
      [3, 4, 8],
    ],
    ['gelu, top-3, 8 experts', {activation: 'gelu', topK: 3, numExperts: 8}, [10, 8]],
    [
      'relu, top-1, LoRA on the experts',
      {activation: 'relu', topK: 1, lora: {rank: 2, targets: ['experts/up', 'experts/down']}},
      [2, 5, 8],
    ],
  ];
  for (const [name, args, shape] of cases) {
    it(`gives the JS router's outputs, gradients and aux loss: ${name}`, async () => {
      const layer = moe(args, shape.at(-1)!);
      const x = tf.variable(rand(shape, 3));
      const before = tf.memory().numTensors;
      for (const training of [true, false]) {
        const g = run(layer, x, 'graph', training);
        const j = run(layer, x, 'js', training);
        expect(await maxAbsDiff(g.y, j.y)).toBeLessThanOrEqual(1e-5);
        expect(Math.abs(g.aux - j.aux)).toBeLessThanOrEqual(1e-5);
        expect(g.load).toEqual(j.load);
        for (const key of Object.keys(j.grads)) {
          expect(await maxAbsDiff(g.grads[key]!, j.grads[key]!), key).toBeLessThanOrEqual(1e-5);
        }
        tf.dispose([g.value, g.y, j.value, j.y, Object.values(g.grads), Object.values(j.grads)]);
      }
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
    });
  }

  it('routes skewed loads with an idle expert like the JS router', async () => {
    const layer = moe({numExperts: 4, topK: 2, normTopK: true, auxLossCoef: 0.1}, 8);
    // Expert 3's router column far below the others: no token picks it; expert 0's above: most do.
    const router = layer.weights.find((w) => w.originalName.endsWith('router/kernel'))!;
    const bias = tf.tensor2d([[3, 0, 0, -30]]);
    router.write(tf.add(router.read(), tf.mul(bias, tf.ones([8, 1]))) as tf.Tensor);
    bias.dispose();
    const x = tf.variable(tf.abs(rand([24, 8], 7)));
    const g = run(layer, x, 'graph', true);
    const j = run(layer, x, 'js', true);
    expect(g.load[3]).toBe(0);
    expect(g.load).toEqual(j.load);
    expect(Math.max(...g.load)).toBeGreaterThan(24 * 0.75);
    expect(await maxAbsDiff(g.y, j.y)).toBeLessThanOrEqual(1e-5);
    expect(Math.abs(g.aux - j.aux)).toBeLessThanOrEqual(1e-5);
    for (const key of Object.keys(j.grads)) {
      expect(await maxAbsDiff(g.grads[key]!, j.grads[key]!), key).toBeLessThanOrEqual(1e-5);
    }
    tf.dispose([g.value, g.y, j.value, j.y, Object.values(g.grads), Object.values(j.grads)]);
    x.dispose();
  });

  it('leaks no tensor in inference', async () => {
    const layer = moe({numShared: 1}, 8);
    const x = rand([5, 8], 1);
    layer.apply(x, {router: 'graph'});
    const leaked = await leakedTensors(() => {
      tf.dispose(layer.apply(x, {router: 'graph'}) as tf.Tensor);
    });
    expect(leaked).toBe(0);
    x.dispose();
  });

  it('leaves the calls it does not cover to the JS router', () => {
    const base = {topK: 2, scoring: 'softmax' as const, normTopK: false, routeScale: 1, temperature: 1};
    expect(graphRoutingCovers({...base, numGroups: 1, topKGroups: 1, biasUpdateSpeed: 0}, 4)).toBe(false);
    expect(graphRoutingCovers({...base, numGroups: 1, topKGroups: 1, biasUpdateSpeed: 1e-3}, null)).toBe(
      false,
    );
    expect(graphRoutingCovers({...base, numGroups: 4, topKGroups: 2, biasUpdateSpeed: 0}, null)).toBe(false);
    expect(graphRoutingCovers({...base, numGroups: 4, topKGroups: 4, biasUpdateSpeed: 0}, null)).toBe(true);
  });
});
