import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it, vi} from 'vitest';
import {initBackend} from '../../../src/backend/backend.js';
import {StepFunction} from '../../../src/backend/step-function.js';
import {BatchDecoder} from '../../../src/models/causal-lm/batch-decoder.js';
import {CachedDecoder} from '../../../src/models/causal-lm/cached-decoder.js';
import {buildCausalLM, type CausalLMConfig} from '../../../src/models/causal-lm/causal-lm.js';
import {cacheCapacity} from '../../../src/models/causal-lm/fixed-cache-steps.js';
import {graphForwardEnabled} from '../../../src/train/graph-forward.js';
import {withSeededRandom} from '../../../src/train/seeded-random.js';
import {small, VARIANTS} from './lm-variants.js';

// Decoding steps against fixed-capacity caches, captured per capacity (FixedCacheSteps), give the
// logits of the general path (growing caches, op by op: DSK_GRAPH_FORWARD=0).
let capturing = false;
beforeAll(async () => {
  await initBackend();
  capturing = graphForwardEnabled();
});

/** Runs `fn` with DSK_GRAPH_FORWARD=0 (the general decoding path), then restores the variable. */
function generalPath<T>(fn: () => T): T {
  const saved = process.env.DSK_GRAPH_FORWARD;
  process.env.DSK_GRAPH_FORWARD = '0';
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env.DSK_GRAPH_FORWARD;
    else process.env.DSK_GRAPH_FORWARD = saved;
  }
}

/** Logits of a prompt then 40 greedy-free fixed tokens, one sequence (CachedDecoder). */
function decodeOne(
  model: tf.LayersModel,
  config: CausalLMConfig,
  decoder = new CachedDecoder(model, config),
) {
  const out: Float32Array[] = [];
  for (const chunk of [[3, 7, 1], ...Array.from({length: 40}, (_, i) => [(i * 7) % 40])]) {
    const logits = decoder.step(chunk);
    out.push(logits.dataSync() as Float32Array);
    logits.dispose();
  }
  decoder.dispose();
  return out;
}

/** Logits of three sequences decoded together (BatchDecoder), the second leaving mid-way. */
function decodeBatch(model: tf.LayersModel, config: CausalLMConfig, batch = new BatchDecoder(model, config)) {
  const out: Float32Array[] = [];
  const ids = [[5, 30, 2], [17], [8, 1, 4, 4, 9]].map((p) => {
    const {id, logits} = batch.add(p);
    logits.dispose();
    return id;
  });
  for (let i = 0; i < 38; i++) {
    if (i === 20) batch.remove(ids[1]!);
    const logits = batch.step(batch.sequences.map((_, b) => (i * 3 + b) % 40));
    out.push(logits.dataSync() as Float32Array);
    logits.dispose();
  }
  batch.dispose();
  return out;
}

const maxDiff = (a: Float32Array[], b: Float32Array[]) =>
  Math.max(...a.map((row, i) => Math.max(...row.map((v, j) => Math.abs(v - b[i]![j]!)))));

describe('FixedCacheSteps (captured decoding steps)', () => {
  it('picks few capacities: powers of two from 32, at most the context, never below what is needed', () => {
    expect([1, 32, 33, 64, 65, 100].map((n) => cacheCapacity(n, 128))).toEqual([32, 32, 64, 64, 128, 128]);
    expect(cacheCapacity(33, 48)).toBe(48);
    expect(cacheCapacity(50, 48)).toBe(50);
  });

  for (const [name, over] of Object.entries({
    rope: {},
    'learned positions, grouped KV heads': {
      positions: 'learned',
      tiedHead: false,
      numHeads: 4,
      numKvHeads: 2,
    },
    'MoE, grouped KV heads': VARIANTS['MoE, grouped KV heads']!,
  } as Record<string, Partial<CausalLMConfig>>)) {
    it(`${name}: one sequence and a batch get the general path's logits to 1e-5, replayed, no tensor leak`, () => {
      const config = small({...over, contextLength: 64});
      const model = withSeededRandom(7, () => buildCausalLM(config, 40));
      const want = generalPath(() => [decodeOne(model, config), decodeBatch(model, config)]);
      const before = tf.memory().numTensors;
      const calls = vi.spyOn(StepFunction.prototype, 'call');
      const got = [decodeOne(model, config), decodeBatch(model, config)];
      expect(tf.memory().numTensors).toBe(before);
      expect(maxDiff(got[0]!, want[0]!)).toBeLessThan(1e-5);
      expect(maxDiff(got[1]!, want[1]!)).toBeLessThan(1e-5);
      // Per capacity (32, then 64) and batch shape, the first step runs, two are recorded, the rest replay.
      if (capturing) expect(calls.mock.calls.length).toBeGreaterThan(50);
      calls.mockRestore();
      model.dispose();
    });
  }
});
