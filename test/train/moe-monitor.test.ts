import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {moeLayers} from '../../src/layers/moe/moe-layers.js';
import {
  buildCausalLM,
  CAUSAL_LM_PRESETS,
  type CausalLMConfig,
  DEFAULT_CAUSAL_LM_CONFIG,
} from '../../src/models/causal-lm/causal-lm.js';
import {routingAlarm, routingMetrics} from '../../src/train/moe-monitor.js';
import {withSeededRandom} from '../../src/train/seeded-random.js';

const config = {
  ...DEFAULT_CAUSAL_LM_CONFIG,
  ...CAUSAL_LM_PRESETS.tiny,
  ffn: 'moe',
  moe: {
    numExperts: 4,
    topK: 1,
    expertHidden: 8,
    numShared: 0,
    scoring: 'softmax',
    normTopK: false,
    auxLossCoef: 0,
  },
} as CausalLMConfig;

describe('MoE routing monitor', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('reports the worst layer’s load and warns once routing collapses onto one expert', () => {
    const model = withSeededRandom(2, () => buildCausalLM(config, 50));
    const ids = tf.tensor2d([Array.from({length: 32}, (_, i) => (i * 7) % 50)], undefined, 'int32');
    const run = () => tf.tidy(() => model.apply(ids, {training: true}) as tf.Tensor).dispose();
    const alarm = routingAlarm(model, {every: 10});
    run();
    const balanced = tf.tidy(() => routingMetrics(model).moe_load!.dataSync()[0]!);
    expect(balanced).toBeGreaterThanOrEqual(1);
    expect(balanced).toBeLessThan(4);

    // Layer block1's last call sent every token to expert 2.
    const [, second] = moeLayers(model);
    const stats = second!.lastRoutingStats!;
    second!.lastRoutingStats = {
      ...stats,
      tokensPerExpert: [0, 0, stats.numTokens, 0],
      maxLoad: stats.numTokens,
      maxOverMean: 4,
      unusedExperts: 3,
    };
    const metrics = routingMetrics(model);
    const load = metrics.moe_load!.dataSync()[0]!;
    // Per-expert load relative to the fair share, for metrics.jsonl and TensorBoard.
    const perExpert = [0, 1, 2, 3].map((i) => metrics[`moe/block1/ffn/e${i}`]!.dataSync()[0]!);
    expect(perExpert).toEqual([0, 0, stats.numTokens / stats.meanLoad, 0]);
    const first = [0, 1, 2, 3].map((i) => metrics[`moe/block0/ffn/e${i}`]!.dataSync()[0]!);
    expect(first.reduce((a, b) => a + b, 0) / 4).toBeCloseTo(1, 6);
    tf.dispose(Object.values(metrics));
    expect(load).toBe(4);
    expect(alarm(1)).toMatch(/block1\/ffn at step 1: MoE routing is collapsing: expert 2 takes 4\.00x/);
    expect(alarm(5)).toBeUndefined(); // at most once every 10 steps
    expect(alarm(11)).toMatch(/collapsing/);
    expect(routingMetrics(buildCausalLM({...config, ffn: 'dense'}, 50))).toEqual({});
    ids.dispose();
    model.dispose();
  });

  it('warns from a step’s metrics when the layers’ stats are stale (a replayed captured step)', () => {
    const model = withSeededRandom(2, () => buildCausalLM(config, 50));
    const ids = tf.tensor2d([Array.from({length: 32}, (_, i) => (i * 7) % 50)], undefined, 'int32');
    tf.tidy(() => model.apply(ids, {training: true}) as tf.Tensor).dispose();
    const alarm = routingAlarm(model, {every: 10});
    // The layers' last stats say balanced; the step's metrics say block1 collapsed.
    for (const layer of moeLayers(model)) {
      const stats = layer.lastRoutingStats!;
      const even = stats.meanLoad;
      layer.lastRoutingStats = {
        ...stats,
        tokensPerExpert: [even, even, even, even],
        maxLoad: even,
        maxOverMean: 1,
        unusedExperts: 0,
      };
    }
    expect(alarm(1)).toBeUndefined();
    const collapsed = {
      'moe/block1/ffn/e0': 0,
      'moe/block1/ffn/e1': 0,
      'moe/block1/ffn/e2': 4,
      'moe/block1/ffn/e3': 0,
    };
    expect(alarm(2, collapsed)).toMatch(
      /block1\/ffn at step 2: MoE routing is collapsing: expert 2 takes 4\.00x .*3 of 4/,
    );
    ids.dispose();
    model.dispose();
  });

  it('passes the auxiliary loss through as moe/aux_loss: the Switch loss × its coefficient', () => {
    const coef = 0.01;
    const model = withSeededRandom(3, () =>
      buildCausalLM({...config, moe: {...config.moe, auxLossCoef: coef}}, 50),
    );
    const ids = tf.tensor2d([Array.from({length: 32}, (_, i) => (i * 5) % 50)], undefined, 'int32');
    const before = tf.memory().numTensors;
    const [aux, metrics] = tf.tidy(() => {
      model.apply(ids, {training: true});
      const loss = tf.addN(model.calculateLosses()) as tf.Scalar;
      return [loss, routingMetrics(model, loss)] as const;
    });
    const value = aux.dataSync()[0]!;
    // Two layers, each E·Σ f·P in [1, E] for E = 4, times the coefficient.
    expect(value).toBeGreaterThanOrEqual(2 * coef);
    expect(value).toBeLessThanOrEqual(2 * 4 * coef);
    expect(metrics['moe/aux_loss']!.dataSync()[0]).toBeCloseTo(value, 6);
    const plain = routingMetrics(model);
    expect(plain['moe/aux_loss']).toBeUndefined();
    tf.dispose([aux, ...Object.values(metrics), ...Object.values(plain)]);
    expect(tf.memory().numTensors).toBe(before);
    ids.dispose();
    model.dispose();
  });
});
