import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {
  buildCausalLM,
  type CausalLMConfig,
  DEFAULT_CAUSAL_LM_CONFIG,
} from '../../src/models/causal-lm/causal-lm.js';
import {languageModelLoss} from '../../src/models/causal-lm/causal-lm-train.js';
import {lmBatchSource} from '../../src/models/causal-lm/lm-data.js';
import {graphStepsEnabled} from '../../src/train/graph-step.js';
import {sparseCrossEntropy} from '../../src/train/losses.js';
import {trainableFromLayersModel} from '../../src/train/trainable.js';
import {type LossFn, type TrainOptions, train} from '../../src/train/trainer.js';
import {blobs, pointSource, toy} from './toy.js';

// Steps captured and replayed as one TensorFlow function (src/train/graph-step.ts) against the same
// steps run op by op (DSK_GRAPH_STEP=0), on tfjs-node built with registerGraphFunction.
let dir: string;
let capturing = false;

beforeAll(async () => {
  await initBackend();
  capturing = graphStepsEnabled();
  dir = await mkdtemp(join(tmpdir(), 'dsk-graph-step-'));
});

afterAll(async () => {
  await rm(dir, {recursive: true, force: true});
});

/** Runs `fn` with DSK_GRAPH_STEP set to `value` (undefined: unset). */
async function withGraphStep<T>(value: string | undefined, fn: () => Promise<T>): Promise<T> {
  const before = process.env.DSK_GRAPH_STEP;
  if (value === undefined) delete process.env.DSK_GRAPH_STEP;
  else process.env.DSK_GRAPH_STEP = value;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.DSK_GRAPH_STEP;
    else process.env.DSK_GRAPH_STEP = before;
  }
}

interface Setup {
  model: tf.LayersModel;
  loss: LossFn;
  options: Partial<TrainOptions> & Pick<TrainOptions, 'data'>;
}

const POINTS = blobs(96, 1).map((p, i) => ({...p, weight: [1, 0.5, 2][i % 3]!}));

/** The blobs MLP, with sample weights (a third batch tensor) and clipping. */
function classifier(extra: Partial<TrainOptions> = {}): Setup {
  const {model, loss} = toy();
  return {model, loss, options: {data: pointSource(POINTS, 16), lr: 0.01, clipNorm: 1, ...extra}};
}

const TEXT = Int32Array.from(
  Buffer.from('Call me Ishmael. Some years ago, never mind how long precisely, '.repeat(8)),
);

const languageModelConfig = (): CausalLMConfig => ({
  ...DEFAULT_CAUSAL_LM_CONFIG,
  contextLength: 16,
  dModel: 32,
  numLayers: 1,
  numHeads: 2,
  ffnHidden: 48,
});

/** A tiny causal LM (one block, RoPE, tied head) on bytes, with weight decay and a warm-up schedule. */
function languageModel(): Setup {
  const model = buildCausalLM(languageModelConfig(), 256);
  const loss: LossFn = (batch, ctx) =>
    sparseCrossEntropy(model.apply(batch.inputs, {training: ctx.training}) as tf.Tensor, batch.targets);
  const data = lmBatchSource(TEXT, 16, 4, 1, true);
  return {model, loss, options: {data, lr: 3e-3, clipNorm: 1, schedule: {warmupSteps: 3}}};
}

/**
 * A tiny MoE causal LM as moe-lm is built (softmax top-2 renormalised, a shared expert, Switch
 * loss) with the CLI's loss: aux losses and routing metrics. Its router runs in TensorFlow while a
 * step is recorded, so the steps replay; op by op the JS router runs: the losses compare the two.
 */
function moeLanguageModel(): Setup {
  const config: CausalLMConfig = {
    ...languageModelConfig(),
    ffn: 'moe',
    moe: {
      numExperts: 4,
      topK: 2,
      expertHidden: 16,
      numShared: 1,
      scoring: 'softmax',
      normTopK: true,
      auxLossCoef: 0.01,
    },
  };
  const model = buildCausalLM(config, 256);
  const data = lmBatchSource(TEXT, 16, 4, 1, true);
  return {model, loss: languageModelLoss(model), options: {data, lr: 3e-3, clipNorm: 1}};
}

/** Trains `setup` for `steps`; returns per-step losses, final weights and the result. */
async function run(setup: Setup, steps: number, initial?: tf.Tensor[], extra: Partial<TrainOptions> = {}) {
  const {model, loss, options} = setup;
  if (initial) model.setWeights(initial);
  const losses: number[] = [];
  const metrics: Record<string, number>[] = [];
  const tensors: number[] = [];
  const warnings: string[] = [];
  const result = await train({
    model: trainableFromLayersModel(model),
    loss,
    steps,
    logEvery: 1,
    ...options,
    ...extra,
    onStep: (e) => {
      losses.push(e.loss);
      metrics.push(e.metrics);
      tensors.push(tf.memory().numTensors);
    },
    onWarning: (m) => warnings.push(m),
  });
  const weights = model.getWeights().map((w) => Float32Array.from(w.dataSync()));
  return {result, losses, metrics, weights, tensors, warnings};
}

const maxDiff = (a: Float32Array[], b: Float32Array[]) =>
  Math.max(...a.map((x, i) => Math.max(...x.map((v, j) => Math.abs(v - b[i]![j]!)))));

/** The same training op by op and captured, from the same weights. */
async function both(make: () => Setup, steps: number) {
  const first = make();
  const initial = first.model.getWeights().map((w) => tf.clone(w));
  const eager = await withGraphStep('0', () => run(first, steps, initial));
  const second = make();
  const captured = await withGraphStep(undefined, () => run(second, steps, initial));
  tf.dispose(initial);
  first.model.dispose();
  second.model.dispose();
  return {eager, captured};
}

describe('captured training steps', () => {
  it.runIf(graphStepsEnabled() || process.env.DSK_GRAPH_STEP === undefined)(
    'are available on tfjs-node (the build adds registerGraphFunction)',
    () => {
      expect(tf.getBackend() !== 'tensorflow' || capturing).toBe(true);
    },
  );

  for (const [name, make] of [
    ['a tiny causal LM', languageModel],
    ['a tiny MoE causal LM', moeLanguageModel],
    ['a classifier with sample weights', () => classifier()],
  ] as const) {
    it(`replay ${name}'s steps with the eager steps' losses and weights (1e-5)`, async () => {
      if (!capturing) return;
      const {eager, captured} = await both(make, 7);
      expect(eager.result.graphSteps).toBeUndefined();
      // Step 1 runs, 2 and 3 are recorded (eager), then 4–7 are replayed.
      expect(captured.result.graphSteps).toEqual({replayed: 4, eager: 3});
      expect(captured.warnings).toEqual([]);
      for (const [i, l] of eager.losses.entries()) expect(captured.losses[i]).toBeCloseTo(l, 5);
      expect(maxDiff(eager.weights, captured.weights)).toBeLessThan(1e-5);
      // The metrics too: the MoE's routing metrics come out of the replayed function.
      for (const [i, m] of eager.metrics.entries()) {
        expect(Object.keys(captured.metrics[i]!).sort()).toEqual(Object.keys(m).sort());
        for (const [name, v] of Object.entries(m)) expect(captured.metrics[i]![name], name).toBeCloseTo(v, 5);
      }
      // No tensor accumulates over replayed steps.
      expect(new Set(captured.tensors.slice(4)).size).toBe(1);
    });
  }

  it('replays a step where a parameter gets no gradient (it comes out as it went in)', async () => {
    if (!capturing) return;
    const {model, loss} = toy();
    const unused = tf.variable(tf.ones([3]), true, 'graph_step_unused');
    const trainable = trainableFromLayersModel(model);
    const result = await train({
      model: {...trainable, trainable: [...trainable.trainable, {name: 'unused', variable: unused}]},
      loss,
      data: pointSource(POINTS, 16),
      steps: 5,
      lr: 0.01,
    });
    expect(result.graphSteps).toEqual({replayed: 2, eager: 3});
    expect(Array.from(unused.dataSync())).toEqual([1, 1, 1]);
    unused.dispose();
    model.dispose();
  });

  it('runs op by op, with the reason, when a value written from JS changes between steps', async () => {
    if (!capturing) return;
    const make = (): Setup => {
      const setup = classifier();
      const loss = setup.loss;
      // A JS number that changes every step, not passed as an input: cannot be captured.
      let calls = 0;
      setup.loss = (batch, ctx) => {
        const out = loss(batch, ctx) as {loss: tf.Scalar};
        calls += 1;
        return tf.mul(out.loss, tf.scalar(1 + calls / 100)) as tf.Scalar;
      };
      return setup;
    };
    const {eager, captured} = await both(make, 5);
    expect(captured.result.graphSteps?.replayed).toBe(0);
    expect(captured.result.graphSteps?.reason).toMatch(/value written from JS that changes between steps/);
    expect(captured.warnings).toHaveLength(1);
    expect(captured.warnings[0]).toMatch(
      /^training steps run op by op, not captured as one TensorFlow function: /,
    );
    expect(maxDiff(eager.weights, captured.weights)).toBeLessThan(1e-6);
  });

  it('runs op by op when the loss reads the step number (a branch in JS the ops do not show)', async () => {
    if (!capturing) return;
    const setup = classifier();
    const loss = setup.loss;
    setup.loss = (batch, ctx) => {
      const out = loss(batch, ctx) as {loss: tf.Scalar};
      return ctx.step === 6 ? (tf.mul(out.loss, 2) as tf.Scalar) : out.loss;
    };
    const {result, losses} = await run(setup, 7);
    setup.model.dispose();
    expect(result.graphSteps).toEqual({replayed: 0, eager: 7, reason: 'the loss reads ctx.step'});
    // Step 6's doubled loss happened.
    expect(losses[5]! / losses[4]!).toBeGreaterThan(1.5);
  });

  it('runs op by op when the step reads a value back (a decision taken in JS)', async () => {
    if (!capturing) return;
    const setup = classifier();
    const loss = setup.loss;
    setup.loss = (batch, ctx) => {
      const out = loss(batch, ctx) as {loss: tf.Scalar};
      return out.loss.dataSync()[0]! > 100 ? (tf.mul(out.loss, 0) as tf.Scalar) : out.loss;
    };
    const {result} = await run(setup, 4);
    setup.model.dispose();
    expect(result.graphSteps).toEqual({
      replayed: 0,
      eager: 4,
      reason: expect.stringMatching(/reads a tensor back/),
    });
  });

  it('resumes from a checkpoint and continues as an uninterrupted captured run', async () => {
    if (!capturing) return;
    const runDir = join(dir, 'resumed');
    // A constant learning rate: the cosine schedule depends on the steps each run is asked for.
    const constant = {schedule: {decay: 'constant'}} as const;
    const straight = classifier(constant);
    const whole = await run(straight, 8);
    straight.model.dispose();
    const part = classifier({...constant, runDir, checkpointEvery: 4});
    await run(part, 4);
    part.model.dispose();
    const rest = classifier({...constant, runDir, resume: true, checkpointEvery: 4});
    const resumed = await run(rest, 8);
    rest.model.dispose();
    expect(resumed.result.resumedFrom).toBe(4);
    expect(resumed.result.graphSteps?.replayed).toBe(1);
    expect(maxDiff(whole.weights, resumed.weights)).toBeLessThan(1e-5);
  });

  it('is off on the JS backends', async () => {
    const backend = tf.getBackend();
    await tf.setBackend('cpu');
    try {
      expect(graphStepsEnabled()).toBe(false);
    } finally {
      await tf.setBackend(backend);
    }
  });
});
