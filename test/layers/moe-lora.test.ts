import * as tf from '@tensorflow/tfjs';
import {afterEach, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {ConfigError, ModelError} from '../../src/errors.js';
import {MoE, type MoEArgs} from '../../src/layers/moe.js';
import {
  disposeWeights,
  leakedTensors,
  maxAbsDiff,
  rand,
  saveAndLoad,
  saveLoadDiff,
} from './layer-test-utils.js';

beforeAll(async () => {
  await initBackend();
});

const made: MoE[] = [];
afterEach(() => {
  for (const layer of made.splice(0)) disposeWeights(layer);
});

const BASE: MoEArgs = {numExperts: 4, topK: 2, expertHidden: 6, numShared: 1, seed: 11};
const ALL_DOWN = {rank: 2, alpha: 4, targets: ['experts/down', 'shared/down']};

function moe(args: Partial<MoEArgs> = {}, d = 8): MoE {
  const layer = new MoE({...BASE, ...args});
  layer.build([null, d]);
  made.push(layer);
  return layer;
}

/** Sets every adapter's B (and A) to seeded random values, so the adapted layer differs from its base. */
function perturb(layer: MoE, seed = 5): void {
  const values = layer.getAdapterWeights().map((w, i) => {
    const r = tf.tidy(() => tf.mul(rand(w.shape, seed + i), 0.5));
    w.dispose();
    return r;
  });
  layer.setAdapterWeights(values);
  tf.dispose(values);
}

/** A weight's name within its layer (`experts/down/lora_a`), whether or not it was built in a scope. */
function rel(layer: tf.layers.Layer, w: tf.LayerVariable): string {
  return w.originalName.startsWith(`${layer.name}/`)
    ? w.originalName.slice(layer.name.length + 1)
    : w.originalName;
}

/** Copies every base weight of `from` (router, experts, shared) into `to`. */
function copyBase(from: MoE, to: MoE): void {
  const byName = new Map(from.weights.map((w) => [rel(from, w), w]));
  for (const w of to.weights) {
    const source = byName.get(rel(to, w));
    if (source && !/lora_[ab]$/.test(w.originalName)) w.write(source.read());
  }
}

const variable = (w: tf.LayerVariable) => w.read() as tf.Variable;

describe('MoE LoRA adapters', () => {
  for (const activation of ['swiglu', 'gelu'] as const) {
    it(`a fresh adapter on every projection computes the base layer (${activation})`, async () => {
      const plain = moe({activation});
      const sites = plain.loraSites();
      expect(sites).toEqual(
        activation === 'swiglu'
          ? ['experts/gate', 'experts/up', 'experts/down', 'shared/gate', 'shared/up', 'shared/down']
          : ['experts/up', 'experts/down', 'shared/up', 'shared/down'],
      );
      const adapted = moe({activation, lora: {rank: 3, targets: sites}});
      copyBase(plain, adapted);
      const x = rand([2, 5, 8], 3);
      for (const dispatch of ['sparse', 'dense'] as const) {
        const a = plain.apply(x, {dispatch}) as tf.Tensor;
        const b = adapted.apply(x, {dispatch}) as tf.Tensor;
        expect(await maxAbsDiff(a, b)).toBeLessThanOrEqual(1e-6);
        tf.dispose([a, b]);
      }
      x.dispose();
    });
  }

  it('stacks one adapter per routed expert: A [E, in, r], B [E, r, out] zero; shared ones are 2-D', () => {
    const layer = moe({lora: ALL_DOWN});
    const shapes = Object.fromEntries(
      layer.weights.filter((w) => /lora_[ab]$/.test(w.originalName)).map((w) => [rel(layer, w), w.shape]),
    );
    expect(shapes).toEqual({
      'experts/down/lora_a': [4, 6, 2],
      'experts/down/lora_b': [4, 2, 8],
      'shared/down/lora_a': [6, 2],
      'shared/down/lora_b': [2, 8],
    });
    const b = layer.getAdapterWeights()[1]!;
    expect(b.abs().max().dataSync()[0]).toBe(0);
    b.dispose();
  });

  it('trains A and B only: the router, experts and shared experts are frozen', () => {
    const layer = moe({lora: ALL_DOWN});
    expect(layer.trainableWeights.map((w) => rel(layer, w))).toEqual([
      'experts/down/lora_a',
      'experts/down/lora_b',
      'shared/down/lora_a',
      'shared/down/lora_b',
    ]);
    for (const w of layer.nonTrainableWeights) expect(variable(w).trainable).toBe(false);
    perturb(layer);
    const x = rand([12, 8], 4);
    // What an optimizer gets: the default variable list holds the trainable variables only.
    const {grads} = tf.variableGrads(() => tf.sum(tf.square(layer.apply(x) as tf.Tensor)) as tf.Scalar);
    const mine = new Set(layer.weights.map((w) => variable(w).name));
    const touched = Object.keys(grads).filter((name) => mine.has(name));
    expect(touched.sort()).toEqual(layer.trainableWeights.map((w) => variable(w).name).sort());
    for (const name of touched) expect(grads[name]!.abs().max().dataSync()[0]).toBeGreaterThan(0);
    tf.dispose([x, ...Object.values(grads)]);
    layer.takeAuxLoss().dispose();
  });

  it('sparse dispatch with adapters equals the dense reference, forward and A/B gradients', async () => {
    const layer = moe({
      lora: {rank: 2, targets: ['experts/gate', 'experts/up', 'experts/down', 'shared/up']},
    });
    perturb(layer);
    const x = rand([3, 5, 8], 6);
    const probe = rand([3, 5, 8], 7);
    const vars = layer.trainableWeights.map((w) => w.read() as tf.Variable);
    const run = (dispatch: 'sparse' | 'dense') =>
      tf.variableGrads(
        () => tf.sum(tf.mul(layer.apply(x, {dispatch, training: true}) as tf.Tensor, probe)) as tf.Scalar,
        vars,
      );
    const sparse = run('sparse');
    const dense = run('dense');
    expect(Math.abs(sparse.value.dataSync()[0]! - dense.value.dataSync()[0]!)).toBeLessThan(1e-4);
    for (const v of vars) {
      expect(await maxAbsDiff(sparse.grads[v.name]!, dense.grads[v.name]!)).toBeLessThan(1e-4);
    }
    tf.dispose([
      x,
      probe,
      sparse.value,
      dense.value,
      ...Object.values(sparse.grads),
      ...Object.values(dense.grads),
    ]);
    layer.takeAuxLoss().dispose();
  });

  it('the A/B gradient of one expert matches finite differences', () => {
    const layer = moe({lora: {rank: 2, alpha: 3, targets: ['experts/up', 'experts/down']}});
    perturb(layer);
    const x = rand([10, 8], 8);
    const probe = rand([10, 8], 9);
    const f = () => tf.tidy(() => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, probe)) as tf.Scalar);
    const stats = (() => {
      f().dispose();
      return layer.lastRoutingStats!;
    })();
    // The busiest expert: its adapter certainly gets a gradient.
    const e = stats.tokensPerExpert.indexOf(Math.max(...stats.tokensPerExpert));
    const adapters = layer.trainableWeights.map((w) => w.read() as tf.Variable);
    const {grads} = tf.variableGrads(f, adapters);
    const eps = 1e-2;
    let worst = 0;
    for (const v of adapters) {
      const analytic = grads[v.name]!.dataSync();
      const values = v.dataSync().slice();
      const perExpert = values.length / 4;
      for (let j = 0; j < perExpert; j += Math.max(1, Math.floor(perExpert / 6))) {
        const i = e * perExpert + j;
        const at = (delta: number) => {
          const moved = values.slice();
          moved[i] = moved[i]! + delta;
          v.assign(tf.tensor(moved, v.shape));
          const y = f();
          const out = y.dataSync()[0]!;
          y.dispose();
          return out;
        };
        const numeric = (at(eps) - at(-eps)) / (2 * eps);
        v.assign(tf.tensor(values, v.shape));
        worst = Math.max(worst, Math.abs(numeric - analytic[i]!) / Math.max(1e-3, Math.abs(analytic[i]!)));
      }
    }
    expect(worst).toBeLessThan(2e-2);
    tf.dispose([x, probe, ...Object.values(grads)]);
  });

  it('scales by alpha/r, or alpha/sqrt(r) with rslora; dropout acts in training only', async () => {
    const make = (extra: object) => {
      const layer = moe({lora: {rank: 4, alpha: 8, targets: ['experts/down'], ...extra}});
      perturb(layer, 12);
      return layer;
    };
    const plain = moe();
    const [lin, rs] = [make({}), make({rslora: true})];
    for (const l of [lin, rs]) copyBase(plain, l);
    const x = rand([6, 8], 13);
    const [y0, y1, y2] = [plain, lin, rs].map((l) => l.apply(x) as tf.Tensor);
    // Same A, B: the rslora update is (8/2)/(8/4) = 2 times the plain one.
    const ratio = tf.tidy(() => tf.div(tf.sum(tf.abs(tf.sub(y2!, y0!))), tf.sum(tf.abs(tf.sub(y1!, y0!)))));
    expect(ratio.dataSync()[0]).toBeCloseTo(2, 4);
    const dropped = make({dropout: 0.5});
    copyBase(plain, dropped);
    const [i1, i2] = [dropped.apply(x), dropped.apply(x)] as tf.Tensor[];
    expect(await maxAbsDiff(i1!, i2!)).toBe(0);
    const t1 = dropped.apply(x, {training: true}) as tf.Tensor;
    expect(await maxAbsDiff(t1, i1!)).toBeGreaterThan(1e-4);
    dropped.takeAuxLoss().dispose();
    tf.dispose([x, y0!, y1!, y2!, ratio, i1!, i2!, t1]);
  });

  it('merged weights compute the adapted layer', async () => {
    const layer = moe({lora: ALL_DOWN});
    perturb(layer);
    const plain = moe();
    copyBase(layer, plain);
    const merged = layer.mergedWeights();
    const names = layer.baseWeightNames();
    expect(names).toEqual(['experts/down', 'shared/down']);
    for (const [i, name] of names.entries()) {
      plain.weights.find((w) => rel(plain, w) === name)!.write(merged[i]!);
    }
    const x = rand([2, 5, 8], 14);
    const [a, b] = [layer.apply(x), plain.apply(x)] as tf.Tensor[];
    expect(await maxAbsDiff(a!, b!)).toBeLessThanOrEqual(1e-5);
    tf.dispose([x, a!, b!, ...merged]);
  });

  it('round-trips its config and saves → loads with the same predictions, leaking nothing', async () => {
    const layer = new MoE({...BASE, lora: {...ALL_DOWN, rslora: true, dropout: 0.1}});
    const config = layer.getConfig();
    expect(config.lora).toEqual({
      rank: 2,
      alpha: 4,
      rslora: true,
      dropout: 0.1,
      targets: ['experts/down', 'shared/down'],
    });
    const again = MoE.fromConfig(MoE, config) as MoE;
    expect(again.getConfig()).toEqual(config);
    expect(new MoE(BASE).getConfig().lora).toBeNull();
    const input = tf.input({shape: [5, 8]});
    const model = tf.model({inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor});
    perturb(layer);
    const loaded = await saveAndLoad(model);
    const probe = rand([2, 5, 8], 21);
    const [p1, p2] = [model.predict(probe), loaded.predict(probe)] as tf.Tensor[];
    expect(await maxAbsDiff(p1!, p2!)).toBe(0);
    tf.dispose([probe, p1!, p2!]);
    model.dispose();
    loaded.dispose();
    expect(await saveLoadDiff(new MoE({...BASE, lora: ALL_DOWN}), [5, 8])).toBe(0);
    const fresh = moe({lora: ALL_DOWN});
    perturb(fresh);
    const x = rand([2, 5, 8], 15);
    fresh.apply(x, {training: true});
    fresh.takeAuxLoss().dispose();
    const leaked = await leakedTensors(() => {
      tf.dispose(fresh.apply(x) as tf.Tensor);
      tf.dispose(fresh.apply(x, {dispatch: 'dense'}) as tf.Tensor);
      const {value, grads} = tf.variableGrads(
        () => tf.sum(fresh.apply(x, {training: true}) as tf.Tensor) as tf.Scalar,
        fresh.trainableWeights.map((w) => w.read() as tf.Variable),
      );
      tf.dispose([value, ...Object.values(grads)]);
      fresh.takeAuxLoss().dispose();
      tf.dispose(fresh.mergedWeights());
      tf.dispose(fresh.getAdapterWeights());
    });
    expect(leaked).toBe(0);
    x.dispose();
  });

  it('says which projections can take LoRA, and names the layer and shapes on a bad weight', () => {
    expect(() => new MoE({...BASE, lora: {rank: 2, targets: ['router']}})).toThrow(ConfigError);
    expect(() => new MoE({...BASE, lora: {rank: 2, targets: ['router']}})).toThrow(
      /lora target 'router' is not a projection here — use some of experts\/gate/,
    );
    expect(() => new MoE({...BASE, numShared: 0, lora: {rank: 2, targets: ['shared/down']}})).toThrow(
      /lora target 'shared\/down'/,
    );
    const layer = moe({lora: {rank: 2, targets: ['experts/down']}, name: 'ffx'});
    const wrong = [tf.zeros([3, 6, 2]), tf.zeros([3, 2, 8])];
    expect(() => layer.setAdapterWeights(wrong)).toThrow(ModelError);
    expect(() => layer.setAdapterWeights(wrong)).toThrow(
      /ffx\/experts\/down: weight .*lora_a has shape \[4, 6, 2\], got \[3, 6, 2\]/,
    );
    tf.dispose(wrong);
  });
});
