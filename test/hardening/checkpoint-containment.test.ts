import {execFileSync} from 'node:child_process';
import {cp, mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {ModelError} from '../../src/errors.js';
import {loadLatestCheckpoint, saveCheckpoint} from '../../src/train/checkpoint.js';

// Issue 17's containment rule for checkpoints: what model/ gets, checkpoints/ gets too.
let root: string;
let template: string;
const SECRET = 'SECRET-CONTENT-OUTSIDE-THE-RUN';
const STEP = 'checkpoints/step-4';

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dsk-ckpt-contain-'));
  await mkdir(join(root, 'outside'));
  await writeFile(join(root, 'outside', 'secret.bin'), SECRET);
  template = join(root, 'template');
  const weights = [tf.tensor([1, 2, 3, 4], [2, 2]), tf.tensor([5, 6], [2], 'int32')];
  await saveCheckpoint(template, {
    state: {
      step: 4,
      data: {epoch: 0, batchIndex: 4, orderSeed: 7},
      rng: {seed: 7, scheme: 'counter'},
      settings: {},
      savedAt: '2026-12-07T00:00:00.000Z',
    },
    weights: weights.map((tensor, i) => ({name: `w${i}`, tensor})),
    optimizer: [],
  });
  tf.dispose(weights);
});
afterAll(() => rm(root, {recursive: true, force: true}));

/** A fresh copy of the run folder holding one checkpoint (step 4). */
async function run(name: string): Promise<string> {
  const dir = join(root, name);
  await cp(template, dir, {recursive: true});
  return dir;
}

/** Resuming `dir` fails with a ModelError (exit 1) matching `pattern` that quotes nothing outside. */
async function refused(dir: string, pattern: RegExp): Promise<void> {
  const err = await loadLatestCheckpoint(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ModelError);
  expect((err as Error).message).toMatch(pattern);
  expect((err as Error).message).not.toContain(SECRET);
}

/** Rewrites `checkpoints/step-4/model.json` through `edit`. */
async function editIndex(dir: string, edit: (index: {tensors: Record<string, unknown>[]}) => void) {
  const file = join(dir, STEP, 'model.json');
  const index = JSON.parse(await readFile(file, 'utf8'));
  edit(index);
  await writeFile(file, JSON.stringify(index));
}

describe('checkpoints are read under the containment rule', () => {
  it('reads an intact checkpoint (each case below fails for its own reason)', async () => {
    const ckpt = (await loadLatestCheckpoint(await run('intact')))!;
    expect(ckpt.state.step).toBe(4);
    expect([...ckpt.weights[0]!.values]).toEqual([1, 2, 3, 4]);
  });

  it('refuses checkpoints/ or a step folder linked out of the run, and a shard linked out', async () => {
    const folder = await run('link-folder');
    await rename(join(folder, 'checkpoints'), join(root, 'outside', 'checkpoints'));
    await symlink(join(root, 'outside', 'checkpoints'), join(folder, 'checkpoints'));
    await refused(folder, /checkpoints\/latest.*(leading outside|linked folder)/);

    const step = await run('link-step');
    await rename(join(step, STEP), join(root, 'outside', 'step-4'));
    await symlink(join(root, 'outside', 'step-4'), join(step, STEP));
    await refused(step, /step-4\/trainer\.json.*leading outside/);

    const shard = await run('link-shard');
    await rm(join(shard, STEP, 'model.bin'));
    await symlink(join(root, 'outside', 'secret.bin'), join(shard, STEP, 'model.bin'));
    await refused(shard, /step-4\/model\.bin.*leading outside/);
  });

  it('refuses a pointer that climbs out with ".." and special files (a FIFO would hang)', async () => {
    const climb = await run('climb');
    await writeFile(join(climb, 'checkpoints', 'latest'), '../../outside\n');
    await refused(climb, /checkpoints\/latest: unexpected content '\.\.\/\.\.\/outside'.*step-N/);

    const fifo = await run('fifo');
    await rm(join(fifo, STEP, 'model.bin'));
    execFileSync('mkfifo', [join(fifo, STEP, 'model.bin')]);
    await refused(fifo, /step-4\/model\.bin.*a FIFO, not a regular file/);
  });

  it('checks the index against the .bin before allocating: giant, truncated, inconsistent', async () => {
    const giant = await run('giant');
    await editIndex(giant, (index) => {
      index.tensors[0]!.shape = [100000, 100000];
      index.tensors[0]!.bytes = 4e10;
    });
    await refused(
      giant,
      /step-4\/model\.json: tensors\[0\] \(w0\) ends at byte 40000000000, the \.bin holds 24/,
    );

    const truncated = await run('truncated');
    await writeFile(join(truncated, STEP, 'model.bin'), Buffer.alloc(20));
    await refused(truncated, /tensors\[1\] \(w1\) ends at byte 24, the \.bin holds 20.*truncated/);

    const mismatch = await run('mismatch');
    await editIndex(mismatch, (index) => {
      index.tensors[0]!.shape = [4, 4];
    });
    await refused(mismatch, /tensors\[0\]\.bytes is 16, but shape \[4,4\] needs 64/);

    const negative = await run('negative');
    await editIndex(negative, (index) => {
      index.tensors[1]!.offset = -8;
    });
    await refused(negative, /tensors\[1\]: offset and bytes must be non-negative integers/);

    const dtype = await run('dtype');
    await editIndex(dtype, (index) => {
      index.tensors[0]!.dtype = 'float64';
    });
    await refused(dtype, /tensors\[0\]\.dtype is float64/);
  });

  it('names the field of a damaged trainer.json', async () => {
    const state = await run('state');
    const file = join(state, STEP, 'trainer.json');
    const json = JSON.parse(await readFile(file, 'utf8'));
    await writeFile(file, JSON.stringify({...json, data: {...json.data, batchIndex: 'x'}}));
    await refused(state, /step-4\/trainer\.json: data\.batchIndex is not a non-negative integer.*delete it/);

    await writeFile(file, '{"step": 4,');
    await refused(state, /step-4\/trainer\.json: trainer state is not valid JSON/);
  });
});
