import {mkdir, mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {ModelError} from '../../src/errors.js';
import {
  type CheckpointContent,
  listCheckpoints,
  loadLatestCheckpoint,
  saveCheckpoint,
} from '../../src/train/checkpoint.js';

let dir: string;

beforeAll(async () => {
  await initBackend();
  dir = await mkdtemp(join(tmpdir(), 'dsk-ckpt-'));
});

afterAll(async () => {
  await rm(dir, {recursive: true, force: true});
});

function content(step: number, tensors: tf.Tensor[]): CheckpointContent {
  return {
    state: {
      step,
      data: {epoch: 1, batchIndex: 3, orderSeed: 99},
      rng: {seed: 42, scheme: 'counter'},
      earlyStopping: {waited: 1, best: 0.5, bestStep: 2},
      settings: {lr: 0.001},
      savedAt: new Date(0).toISOString(),
    },
    weights: tensors.map((tensor, i) => ({name: `w${i}`, tensor})),
    optimizer: tensors.map((tensor, i) => ({name: `w${i}/m`, tensor})),
  };
}

describe('checkpoints', () => {
  it('round-trip weights, optimizer state and trainer state bit for bit', async () => {
    const run = join(dir, 'a');
    const tensors = [
      tf.tensor2d([
        [1.5, -2e-30],
        [Math.PI, Number.MAX_VALUE],
      ]),
      tf.tensor1d([7, -1], 'int32'),
    ];
    const path = await saveCheckpoint(run, content(4, tensors));
    expect(path).toBe(join(run, 'checkpoints', 'step-4'));
    const loaded = (await loadLatestCheckpoint(run))!;
    expect(loaded.state.data).toEqual({epoch: 1, batchIndex: 3, orderSeed: 99});
    expect(loaded.weights.map((w) => w.name)).toEqual(['w0', 'w1']);
    expect(loaded.weights[0]!.shape).toEqual([2, 2]);
    expect(Array.from(loaded.weights[0]!.values)).toEqual(Array.from(tensors[0]!.dataSync()));
    expect(loaded.weights[1]!.values).toBeInstanceOf(Int32Array);
    expect(Array.from(loaded.optimizer[1]!.values)).toEqual([7, -1]);
    expect(loaded.best).toBeUndefined();
    tf.dispose(tensors);
  });

  it('moves the latest pointer, keeps the newest K, and clears folders a crash left half-written', async () => {
    const run = join(dir, 'b');
    const t = [tf.scalar(1)];
    await mkdir(join(run, 'checkpoints', '.tmp-step-9-1-1'), {recursive: true});
    await writeFile(join(run, 'checkpoints', '.latest-1'), 'step-9\n');
    for (const step of [2, 4, 6, 8]) await saveCheckpoint(run, content(step, t), 2);
    expect(await listCheckpoints(run)).toEqual([6, 8]);
    expect((await readFile(join(run, 'checkpoints', 'latest'), 'utf8')).trim()).toBe('step-8');
    expect((await readdir(join(run, 'checkpoints'))).sort()).toEqual(['latest', 'step-6', 'step-8']);
    expect((await loadLatestCheckpoint(run))!.state.step).toBe(8);
    tf.dispose(t);
  });

  it('an interrupted write leaves the previous checkpoint as latest', async () => {
    const run = join(dir, 'c');
    const good = [tf.scalar(1)];
    await saveCheckpoint(run, content(1, good));
    const bad = [tf.scalar(2, 'bool' as 'int32')];
    await expect(saveCheckpoint(run, content(2, bad))).rejects.toThrow(/dtype bool/);
    expect(await listCheckpoints(run)).toEqual([1]);
    expect((await readdir(join(run, 'checkpoints'))).filter((n) => n.startsWith('.tmp'))).toEqual([]);
    expect((await loadLatestCheckpoint(run))!.state.step).toBe(1);
    tf.dispose([...good, ...bad]);
  });

  it('no checkpoint: undefined; a damaged one: a ModelError naming it', async () => {
    expect(await loadLatestCheckpoint(join(dir, 'none'))).toBeUndefined();
    const run = join(dir, 'd');
    const t = [tf.scalar(1)];
    const path = await saveCheckpoint(run, content(3, t));
    await writeFile(join(path, 'model.bin'), Buffer.alloc(1));
    const err = await loadLatestCheckpoint(run).catch((e) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect(err.message).toContain('step-3');
    tf.dispose(t);
  });
});
