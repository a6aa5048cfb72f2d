import {mkdtemp, readdir, readFile, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {ConfigError, ModelError} from '../../src/errors.js';
import {listCheckpoints} from '../../src/train/checkpoint.js';
import {TrainingDivergedError} from '../../src/train/diverged-error.js';
import {accuracy, sparseCrossEntropy} from '../../src/train/losses.js';
import {MetricsLog} from '../../src/train/metrics-log.js';
import {trainableFromVariables} from '../../src/train/trainable.js';
import {type StepEvent, type TrainOptions, train} from '../../src/train/trainer.js';
import {blobs, pointSource, toy} from './toy.js';

const TRAIN = blobs(240, 1);
const VAL = blobs(90, 2);
let dir: string;
let runs = 0;
const runDir = () => join(dir, `run-${runs++}`);

beforeAll(async () => {
  await initBackend();
  dir = await mkdtemp(join(tmpdir(), 'dsk-train-'));
});

afterAll(async () => {
  await rm(dir, {recursive: true, force: true});
});

/** Trains a fresh toy model; returns the per-step losses and the result. */
async function run(options: Partial<TrainOptions> & {batchSize?: number} = {}) {
  const {model, trainable, loss} = toy();
  const losses: number[] = [];
  const onStep = (e: StepEvent) => {
    losses.push(e.loss);
    options.onStep?.(e);
  };
  const result = await train({
    model: trainable,
    loss,
    data: pointSource(TRAIN, options.batchSize ?? 16),
    lr: 0.01,
    logEvery: 4,
    ...options,
    onStep,
  });
  const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
  model.dispose();
  return {result, losses, weights};
}

describe('train', () => {
  it('learns the blobs: validation accuracy above 90%, loss falling', async () => {
    const {result, losses} = await run({epochs: 4, validation: pointSource(VAL, 30, 1, false)});
    expect(result.steps).toBe(4 * 15);
    expect(result.epochsCompleted).toBe(4);
    expect(result.lastEval!.val_acc).toBeGreaterThan(0.9);
    expect(result.lastEval!.val_loss).toBeLessThan(0.4);
    expect(losses.slice(-5).reduce((a, b) => a + b) / 5).toBeLessThan(losses[0]! / 2);
  });

  it('keeps the number of live tensors flat across steps', async () => {
    const before = tf.memory().numTensors;
    const counts = new Map<number, number>();
    await run({
      steps: 50,
      logEvery: 5,
      clipNorm: 1,
      gradAccum: 2,
      onStep: (e) => counts.set(e.step, tf.memory().numTensors),
    });
    expect(counts.get(50)).toBe(counts.get(5));
    expect(counts.get(25)).toBe(counts.get(5));
    // Model disposed, optimizer state freed: nothing of the run is left.
    expect(tf.memory().numTensors).toBe(before);
  });

  it('gradient accumulation of 2 × 8 follows the same curve as batches of 16', async () => {
    const big = await run({steps: 10, batchSize: 16});
    const accumulated = await run({steps: 10, batchSize: 8, gradAccum: 2});
    expect(accumulated.losses).toHaveLength(10);
    for (const [i, l] of big.losses.entries()) expect(accumulated.losses[i]).toBeCloseTo(l, 5);
  });

  it('resumes exactly: N/2 steps, then resume to N, gives the uninterrupted loss curve and weights', async () => {
    const common = {steps: 40, clipNorm: 1, schedule: {warmupSteps: 5}, checkpointEvery: 7} as const;
    const straight = await run({...common, runDir: runDir()});
    const folder = runDir();
    const first = await run({...common, runDir: folder, steps: 40, signal: abortAfter(20)});
    expect(first.result.stoppedBy).toBe('aborted');
    expect(first.result.steps).toBe(20);
    const second = await run({...common, runDir: folder, resume: true});
    expect(second.result.resumedFrom).toBe(20);
    expect([...first.losses, ...second.losses]).toEqual(straight.losses);
    expect(second.weights).toEqual(straight.weights);
    const log = await MetricsLog.read(join(folder, 'metrics.jsonl'));
    expect(log.filter((r) => r.type === 'step').map((r) => r.loss)).toEqual(straight.losses);
  });

  it('stops on a NaN loss naming the step, and keeps the last good checkpoint', async () => {
    const folder = runDir();
    const {model, trainable, loss} = toy();
    let calls = 0;
    const poisoned: TrainOptions['loss'] = (batch, ctx) => {
      calls += 1;
      const out = loss(batch, ctx) as {loss: tf.Scalar};
      return ctx.step === 13 ? (tf.mul(out.loss, Number.NaN) as tf.Scalar) : out.loss;
    };
    const err = await train({
      model: trainable,
      loss: poisoned,
      data: pointSource(TRAIN, 16),
      steps: 30,
      checkpointEvery: 5,
      logEvery: 4,
      runDir: folder,
    }).catch((e) => e);
    model.dispose();
    expect(err).toBeInstanceOf(TrainingDivergedError);
    expect(err.step).toBe(13);
    expect(err.message).toMatch(/loss became NaN at step 13.*last good checkpoint: .*step-10/);
    expect(calls).toBeLessThan(20);
    expect(await listCheckpoints(folder)).toEqual([5, 10]);
    expect((await readFile(join(folder, 'checkpoints', 'latest'), 'utf8')).trim()).toBe('step-10');
  });

  it('stops when an exploding learning rate sends the loss to Inf or NaN', async () => {
    const err = await run({steps: 200, lr: 1e6, logEvery: 1, optimizer: {epsilon: 1e-30}}).catch((e) => e);
    expect(err).toBeInstanceOf(TrainingDivergedError);
    expect(err.message).toMatch(/at step \d+; training stopped before any checkpoint/);
  });

  it('early stopping stops after `patience` evaluations without improvement and restores the best weights', async () => {
    const evals: number[] = [];
    const {model, trainable, loss} = toy();
    // A metric that improves twice, then gets worse: the best is the second evaluation.
    const script = [0.5, 0.4, 0.45, 0.46, 0.47, 0.48, 0.49];
    let bestWeights: number[][] = [];
    const result = await train({
      model: trainable,
      loss,
      data: pointSource(TRAIN, 16),
      lr: 0.01,
      steps: 100,
      evalEvery: 5,
      evaluate: async ({step}) => {
        const value = script[evals.length]!;
        evals.push(step);
        if (evals.length === 2) bestWeights = model.getWeights().map((w) => Array.from(w.dataSync()));
        return {val_loss: value};
      },
      earlyStopping: {metric: 'val_loss', patience: 3},
    });
    expect(result.stoppedBy).toBe('early_stopping');
    expect(evals).toEqual([5, 10, 15, 20, 25]);
    expect(result.best).toEqual({metric: 'val_loss', value: 0.4, step: 10, metrics: {val_loss: 0.4}});
    expect(model.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(bestWeights);
    model.dispose();
  });

  it('sample weights of 0 remove examples from the loss', async () => {
    const withJunk = [...TRAIN, ...blobs(48, 9).map((p) => ({...p, label: (p.label + 1) % 3, weight: 0}))];
    const weighted = await run({
      data: pointSource(withJunk, 16),
      epochs: 3,
      validation: pointSource(VAL, 30, 1, false),
    });
    expect(weighted.result.lastEval!.val_acc).toBeGreaterThan(0.9);
  });

  it('writes metrics.jsonl, checkpoints and TensorBoard events, and refuses to overwrite a run', async () => {
    const folder = runDir();
    const tb = join(folder, 'tb');
    const checkpoints: number[] = [];
    await run({
      epochs: 2,
      runDir: folder,
      tensorboardDir: tb,
      validation: pointSource(VAL, 30, 1, false),
      keepCheckpoints: 1,
      onCheckpoint: (e) => checkpoints.push(e.step),
    });
    expect(checkpoints).toEqual([15, 30]);
    expect(await listCheckpoints(folder)).toEqual([30]);
    const log = await MetricsLog.read(join(folder, 'metrics.jsonl'));
    expect(log.filter((r) => r.type === 'step')).toHaveLength(30);
    expect(log.filter((r) => r.type === 'eval').map((r) => r.step)).toEqual([15, 30]);
    expect(log.filter((r) => r.type === 'epoch').map((r) => r.epoch)).toEqual([0, 1]);
    expect((await readdir(tb)).some((f) => f.startsWith('events.out.tfevents.'))).toBe(true);
    await expect(run({steps: 2, runDir: folder})).rejects.toBeInstanceOf(ModelError);
  });
});

describe('train: a function-built model', () => {
  it('fits logistic regression on tf.variables, with a weight-decay-free bias', async () => {
    const w = tf.variable(tf.zeros([4, 3]));
    const b = tf.variable(tf.zeros([3]));
    const result = await train({
      model: trainableFromVariables({w, b}),
      loss: (batch) => {
        const logits = tf.add(tf.matMul(batch.inputs as tf.Tensor2D, w), b);
        return {
          loss: sparseCrossEntropy(logits, batch.targets),
          metrics: {acc: accuracy(logits, batch.targets)},
        };
      },
      data: pointSource(TRAIN, 32),
      validation: pointSource(VAL, 45, 1, false),
      lr: 0.1,
      epochs: 5,
    });
    expect(result.lastEval!.val_acc).toBeGreaterThan(0.9);
    tf.dispose([w, b]);
  });

  it('refuses bad settings with a ConfigError before touching anything', async () => {
    for (const bad of [
      {lr: 0},
      {clipNorm: -1},
      {steps: 0},
      {gradAccum: 1.5},
      {evalEvery: 0},
      {earlyStopping: {metric: 'val_loss'}},
    ]) {
      await expect(run(bad)).rejects.toBeInstanceOf(ConfigError);
    }
  });

  it('resuming with other settings warns; resuming an empty folder is a ModelError', async () => {
    const folder = runDir();
    await run({steps: 6, runDir: folder, lr: 0.01});
    const warnings: string[] = [];
    await run({steps: 8, runDir: folder, resume: true, lr: 0.02, onWarning: (m) => warnings.push(m)});
    expect(warnings.join('\n')).toMatch(/resuming with lr 0.02 \(the run was started with 0.01\)/);
    expect(warnings.join('\n')).toMatch(/totalSteps 8/);
    await expect(run({steps: 2, runDir: runDir(), resume: true})).rejects.toThrow(
      /no checkpoint to resume from/,
    );
  });
});

function abortAfter(steps: number): AbortSignal {
  const controller = new AbortController();
  const signal = controller.signal;
  // The trainer checks the signal after each step; abort once `steps` steps are done.
  let seen = 0;
  Object.defineProperty(signal, 'aborted', {
    get: () => {
      seen += 1;
      return seen >= steps;
    },
  });
  return signal;
}
