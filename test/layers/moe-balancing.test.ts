import * as tf from '@tensorflow/tfjs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {routingBiasCallback} from '../../src/layers/moe/moe-layers.js';
import {routingCollapseWarning} from '../../src/layers/moe/routing-stats.js';
import {MoE, type MoEArgs} from '../../src/layers/moe.js';

// A toy task on which an unbalanced router collapses: every token is a shared centre plus noise,
// so at init all tokens prefer the same two experts, and training only entrenches them. The
// balancing methods must spread the tokens out using the noise.

const D = 16;
const SEQ = 16;
const BATCH = 16;
const STEPS = 200;

let center: tf.Tensor;
let mixing: tf.Tensor;

beforeAll(async () => {
  await initBackend();
  center = tf.randomNormal([1, 1, D], 0, 1, 'float32', 1);
  mixing = tf.randomNormal([D, D], 0, 0.5, 'float32', 2);
});

afterAll(() => {
  tf.dispose([center, mixing]);
});

function batch(seed: number, size = BATCH): {x: tf.Tensor; y: tf.Tensor} {
  return tf.tidy(() => {
    const x = tf.add(center, tf.mul(tf.randomNormal([size, SEQ, D], 0, 1, 'float32', seed), 0.5));
    const y = tf.reshape(tf.tanh(tf.matMul(tf.reshape(x, [-1, D]), mixing)), [size, SEQ, D]);
    return {x, y};
  });
}

/** Trains a one-layer MoE model and returns max/mean expert load at init and on held-out tokens. */
async function trainToy(args: Partial<MoEArgs>): Promise<{before: number; after: number; warning?: string}> {
  const layer = new MoE({
    numExperts: 8,
    topK: 2,
    expertHidden: 8,
    seed: 5,
    auxLossCoef: 0,
    zLossCoef: 0,
    ...args,
  });
  const input = tf.input({shape: [SEQ, D]});
  const model = tf.model({inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor});
  model.compile({optimizer: tf.train.adam(0.01), loss: 'meanSquaredError'});
  const test = batch(7, 4 * BATCH); // 1024 held-out tokens
  tf.dispose(model.predict(test.x));
  const before = layer.lastRoutingStats!.maxOverMean;
  const callbacks = args.biasUpdate === 'manual' ? [routingBiasCallback(model)] : [];
  for (let i = 0; i < STEPS; i += 20) {
    const train = batch(1000 + i, 20 * BATCH);
    await model.fit(train.x, train.y, {batchSize: BATCH, epochs: 1, shuffle: false, verbose: 0, callbacks});
    tf.dispose([train.x, train.y]);
  }
  tf.dispose(model.predict(test.x));
  const stats = layer.lastRoutingStats!;
  tf.dispose([test.x, test.y]);
  model.dispose();
  return {before, after: stats.maxOverMean, warning: routingCollapseWarning(stats, 1.5)};
}

describe('MoE load balancing on a collapsing toy task', () => {
  it('collapses without balancing', async () => {
    const {before, after, warning} = await trainToy({});
    expect(before).toBeGreaterThan(2.5);
    expect(after).toBeGreaterThan(2.5);
    expect(warning).toMatch(/MoE routing is collapsing: expert \d+ takes [\d.]+x its fair share/);
  });

  it('stays below 1.5x mean load with the Switch loss', async () => {
    const {before, after, warning} = await trainToy({auxLossCoef: 0.1});
    expect(before).toBeGreaterThan(2.5);
    expect(after).toBeLessThan(1.5);
    expect(warning).toBeUndefined();
  });

  it('stays below 1.5x mean load with aux-loss-free bias balancing (updated every step)', async () => {
    const {before, after} = await trainToy({scoring: 'sigmoid', biasUpdateSpeed: 0.01});
    expect(before).toBeGreaterThan(2.5);
    expect(after).toBeLessThan(1.5);
  });

  it('does the same with manual bias updates from the fit callback', async () => {
    const {after} = await trainToy({scoring: 'sigmoid', biasUpdateSpeed: 0.01, biasUpdate: 'manual'});
    expect(after).toBeLessThan(1.5);
  });
});
