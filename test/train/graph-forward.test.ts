import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it, vi} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {StepFunction} from '../../src/backend/step-function.js';
import {
  buildCausalLM,
  CAUSAL_LM_PRESETS,
  type CausalLMConfig,
  DEFAULT_CAUSAL_LM_CONFIG,
} from '../../src/models/causal-lm/causal-lm.js';
import {scoreStream} from '../../src/models/causal-lm/causal-lm-evaluate.js';
import {lmBatchSource} from '../../src/models/causal-lm/lm-data.js';
import {
  buildClassifier,
  CLASSIFIER_PRESETS,
  type ClassifierConfig,
  classifyTexts,
  DEFAULT_CLASSIFIER_CONFIG,
} from '../../src/models/text-classifier/classifier.js';
import {ByteTokenizer} from '../../src/tokenizer/byte-tokenizer.js';
import {GraphForward, graphForwardEnabled} from '../../src/train/graph-forward.js';
import {graphStepsEnabled} from '../../src/train/graph-step.js';

// A captured forward pass (src/train/graph-forward.ts) gives the logits `predict` gives, op by op.
let capturing = false;
beforeAll(async () => {
  await initBackend();
  capturing = graphStepsEnabled();
});

const TEXT = Int32Array.from(
  Buffer.from('Call me Ishmael. Some years ago, never mind how long precisely, '.repeat(4)),
);
const TINY = {contextLength: 16, dModel: 32, numLayers: 1, numHeads: 2, ffnHidden: 48};

/** moe-lm's MoE, small, in the tiny LM; `extra` MoE options on top. */
function tinyMoE(extra: Partial<NonNullable<CausalLMConfig['moe']>> = {}): CausalLMConfig {
  const moe = {...CAUSAL_LM_PRESETS['moe-lm'].moe!, numExperts: 4, expertHidden: 16, numShared: 1, ...extra};
  return {...DEFAULT_CAUSAL_LM_CONFIG, ...TINY, ffn: 'moe', moe};
}

/** Max |logit difference| of five GraphForward passes against `predict`, and how they ran. */
async function compare(config: CausalLMConfig) {
  const model = buildCausalLM(config, 256);
  const {inputs} = await lmBatchSource(TEXT, 16, 4, 1, true).batch(0, 0);
  const x = inputs as tf.Tensor;
  const eager = model.predict(x) as tf.Tensor;
  const ref = eager.dataSync();
  const reasons: string[] = [];
  const forward = new GraphForward(model, {onFallback: (r) => reasons.push(r)});
  const before = tf.memory().numTensors;
  let diff = 0;
  for (let i = 0; i < 5; i++) {
    const out = forward.predict(x);
    expect(out.shape).toEqual([4, 16, 256]);
    const v = out.dataSync();
    for (let j = 0; j < v.length; j++) diff = Math.max(diff, Math.abs(v[j]! - ref[j]!));
    out.dispose();
  }
  const leaked = tf.memory().numTensors - before;
  const report = forward.report();
  forward.dispose();
  tf.dispose([eager, x]);
  model.dispose();
  return {diff, report, reasons, leaked};
}

describe('GraphForward', () => {
  it('replays a dense causal LM as one function, same logits to 1e-5, no tensor leak', async () => {
    const {diff, report, reasons, leaked} = await compare({...DEFAULT_CAUSAL_LM_CONFIG, ...TINY});
    expect(diff).toBeLessThan(1e-5);
    expect(leaked).toBe(0);
    expect(reasons).toEqual([]);
    if (capturing) expect(report).toEqual({replayed: 2, eager: 3});
    else expect(report).toBeUndefined();
  });

  it('replays an MoE model (its router runs in TensorFlow while recorded), same logits, no leak', async () => {
    const {diff, report, reasons, leaked} = await compare(tinyMoE());
    expect(diff).toBeLessThan(1e-5);
    expect(leaked).toBe(0);
    expect(reasons).toEqual([]);
    if (capturing) expect(report).toEqual({replayed: 2, eager: 3});
  });

  it('runs an MoE with a balancing bias op by op (its routing reads back), saying why, same logits', async () => {
    const {diff, report, reasons, leaked} = await compare(tinyMoE({biasUpdateSpeed: 1e-3}));
    expect(diff).toBeLessThan(1e-5);
    expect(leaked).toBe(0);
    if (!capturing) return;
    expect(report?.replayed).toBe(0);
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/reads a tensor back/);
  });
});

/** Runs `fn` with DSK_GRAPH_FORWARD set to `value`, then restores it. */
async function withForwardEnv<T>(value: string | undefined, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.DSK_GRAPH_FORWARD;
  if (value === undefined) delete process.env.DSK_GRAPH_FORWARD;
  else process.env.DSK_GRAPH_FORWARD = value;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.DSK_GRAPH_FORWARD;
    else process.env.DSK_GRAPH_FORWARD = saved;
  }
}

const maxDiff = (a: Float32Array, b: Float32Array) =>
  a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe('captured inference: classifyTexts and scoreStream', () => {
  const tokenizer = new ByteTokenizer();
  // 10 full batches of 4 and a ragged last batch of 2.
  const texts = Array.from({length: 42}, (_, i) => `review ${i}: ${'a fine film, '.repeat(1 + (i % 5))}`);

  it('passes a ragged last batch op by op and replays full ones; DSK_GRAPH_FORWARD=0 turns it off', () => {
    expect(graphForwardEnabled('0')).toBe(false);
    const model = buildCausalLM({...DEFAULT_CAUSAL_LM_CONFIG, ...TINY}, 256);
    const forward = new GraphForward(model, {batchSize: 4});
    expect(forward.captures(2)).toBe(false);
    expect(forward.captures(4)).toBe(capturing);
    forward.dispose();
    model.dispose();
  });

  it('gives a classifier the op-by-op probabilities to 1e-5, replayed, with no tensor leak', async () => {
    const config: ClassifierConfig = {
      ...DEFAULT_CLASSIFIER_CONFIG,
      ...CLASSIFIER_PRESETS.tiny,
      maxLen: 24,
      vocabSize: tokenizer.vocabSize,
    };
    const model = buildClassifier(config, tokenizer.vocabSize, 3);
    const run = {model, tokenizer, labels: ['a', 'b', 'c'], config};
    const eager = await withForwardEnv('0', () => classifyTexts(run, texts, 4));
    const before = tf.memory().numTensors;
    const calls = vi.spyOn(StepFunction.prototype, 'call');
    const captured = await withForwardEnv(undefined, () => classifyTexts(run, texts, 4));
    const forward = new GraphForward(model, {batchSize: 4});
    const kept = await classifyTexts(run, texts, 4, {forward});
    const report = forward.report();
    forward.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(maxDiff(captured, eager)).toBeLessThan(1e-5);
    expect(maxDiff(kept, eager)).toBeLessThan(1e-5);
    if (capturing) {
      // Both runs: the first full batch runs, two are recorded, seven replayed; the ragged one is predict's.
      expect(calls).toHaveBeenCalledTimes(14);
      expect(report).toEqual({replayed: 7, eager: 3});
    }
    calls.mockRestore();
    model.dispose();
  });

  it('gives a causal LM the op-by-op loss and accuracy to 1e-5 per token, replayed', async () => {
    const model = buildCausalLM({...DEFAULT_CAUSAL_LM_CONFIG, ...TINY}, 256);
    const run = {model, config: {...DEFAULT_CAUSAL_LM_CONFIG, ...TINY}};
    // 16-token windows, 2 per batch: 9 full batches, then a ragged one of 1 and a short tail window.
    const stream = Int32Array.from({length: 16 * 19 + 9}, (_, i) => TEXT[i % TEXT.length]!);
    const eager = await withForwardEnv('0', () => scoreStream(run, stream, 2));
    const before = tf.memory().numTensors;
    const calls = vi.spyOn(StepFunction.prototype, 'call');
    const captured = await withForwardEnv(undefined, () => scoreStream(run, stream, 2));
    expect(tf.memory().numTensors).toBe(before);
    expect(captured.tokens).toBe(eager.tokens);
    expect(captured.hits).toBe(eager.hits);
    expect(Math.abs(captured.nats - eager.nats) / eager.tokens).toBeLessThan(1e-5);
    if (capturing) expect(calls).toHaveBeenCalledTimes(6);
    calls.mockRestore();
    model.dispose();
  });
});
