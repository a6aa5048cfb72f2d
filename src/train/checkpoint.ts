import {mkdir, open, readdir, rename, rm} from 'node:fs/promises';
import {join, relative} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {ModelError, printable} from '../errors.js';
import {
  ContainmentError,
  containedFileExists,
  FILE_LIMITS,
  readContainedFile,
  readContainedJson,
} from '../fs/contained-file.js';
import type {EarlyStoppingState} from './early-stopping.js';
import type {NamedTensor, NamedVariable} from './named-variable.js';
import {readTensors, type StoredTensor, writeFileSynced, writeTensors} from './tensor-file.js';

/** What a run needs, besides tensors, to continue exactly where it stopped. */
export interface TrainerState {
  /** Optimizer steps taken. */
  step: number;
  /** The next batch to read: batch `batchIndex` of epoch `epoch`, whose order comes from `orderSeed`. */
  data: {epoch: number; batchIndex: number; orderSeed: number};
  /**
   * The run's randomness is counter-based: the data order of an epoch derives from (seed, epoch),
   * and each step's seed (dropout, sampling) from (seed, step); so this and `data` are the whole
   * RNG state.
   */
  rng: {seed: number; scheme: 'counter'};
  earlyStopping?: EarlyStoppingState;
  /** Settings that shape the trajectory (lr, accumulation…), to warn when a resume changes them. */
  settings: Record<string, unknown>;
  savedAt: string;
}

export interface CheckpointContent {
  state: TrainerState;
  /** Model weights, trainable first then the rest, in a stable order. */
  weights: readonly NamedTensor[];
  /** Optimizer slots (AdamW: m and v per parameter). */
  optimizer: readonly NamedTensor[];
  /** The best weights so far, when early stopping restores them at the end. */
  best?: readonly NamedTensor[];
}

export interface LoadedCheckpoint {
  path: string;
  state: TrainerState;
  weights: StoredTensor[];
  optimizer: StoredTensor[];
  best?: StoredTensor[];
}

export const checkpointsDir = (runDir: string) => join(runDir, 'checkpoints');
const stepDirName = (step: number) => `step-${step}`;
const STEP_DIR = /^step-(\d+)$/;

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Steps of the complete checkpoints in a run folder, oldest first. */
export async function listCheckpoints(runDir: string): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(checkpointsDir(runDir));
  } catch {
    return [];
  }
  return names
    .map((n) => STEP_DIR.exec(n)?.[1])
    .filter((s): s is string => s !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/**
 * Writes `checkpoints/step-N/` atomically: everything goes into a temporary folder, fsynced, which
 * is renamed into place; then the `latest` pointer is replaced the same way (temp file, rename). A
 * crash at any point leaves the previous checkpoint and pointer intact. Keeps the newest `keep`.
 */
export async function saveCheckpoint(runDir: string, content: CheckpointContent, keep = 3): Promise<string> {
  const root = checkpointsDir(runDir);
  await mkdir(root, {recursive: true});
  const name = stepDirName(content.state.step);
  const tmp = join(root, `.tmp-${name}-${process.pid}-${Date.now()}`);
  await mkdir(tmp);
  try {
    await writeTensors(tmp, 'model', content.weights);
    await writeTensors(tmp, 'optimizer', content.optimizer);
    if (content.best) await writeTensors(tmp, 'best', content.best);
    await writeFileSynced(join(tmp, 'trainer.json'), `${JSON.stringify(content.state, null, 2)}\n`);
    const final = join(root, name);
    await rm(final, {recursive: true, force: true});
    await rename(tmp, final);
    const pointerTmp = join(root, `.latest-${process.pid}`);
    await writeFileSynced(pointerTmp, `${name}\n`);
    await rename(pointerTmp, join(root, 'latest'));
    await syncDir(root);
  } catch (err) {
    await rm(tmp, {recursive: true, force: true});
    throw err;
  }
  await prune(root, Math.max(1, keep), name);
  return join(root, name);
}

async function prune(root: string, keep: number, latest: string): Promise<void> {
  const names = await readdir(root);
  const steps = names.filter((n) => STEP_DIR.test(n)).sort((a, b) => stepOf(a) - stepOf(b));
  const old = steps.slice(0, Math.max(0, steps.length - keep)).filter((n) => n !== latest);
  // Folders left by a crash mid-write are never complete checkpoints.
  const stale = names.filter(
    (n) =>
      (n.startsWith('.tmp-') && !n.includes(`-${process.pid}-`)) ||
      (n.startsWith('.latest-') && n !== `.latest-${process.pid}`),
  );
  await Promise.all([...old, ...stale].map((n) => rm(join(root, n), {recursive: true, force: true})));
}

const stepOf = (name: string) => Number(STEP_DIR.exec(name)?.[1] ?? -1);

/**
 * The checkpoint `latest` points to, or undefined when the run folder has none. Every file is read
 * under the run folder's containment rule (src/fs/contained-file.ts), as model/ is: a checkpoint
 * linked out of the run, a special file or one too large is refused before it is read.
 */
export async function loadLatestCheckpoint(runDir: string): Promise<LoadedCheckpoint | undefined> {
  const root = checkpointsDir(runDir);
  let pointer: string;
  try {
    pointer = (
      await readContainedFile(runDir, 'checkpoints/latest', {maxBytes: 256, what: 'checkpoint pointer'})
    )
      .toString('utf8')
      .trim();
  } catch (err) {
    if (err instanceof ContainmentError && err.missing) return undefined;
    throw err;
  }
  if (!STEP_DIR.test(pointer)) {
    throw new ModelError(
      `${join(root, 'latest')}: unexpected content '${printable(pointer, 40)}'`,
      'it names the newest checkpoint folder (step-N); delete it to train without resuming',
    );
  }
  return loadCheckpoint(join(root, pointer), runDir);
}

/** Reads a checkpoint folder; `runDir` (default the folder itself) is the folder no file may leave. */
export async function loadCheckpoint(path: string, runDir = path): Promise<LoadedCheckpoint> {
  try {
    const trainer = relative(runDir, join(path, 'trainer.json'));
    const state = checkTrainerState(
      await readContainedJson(runDir, trainer, {maxBytes: FILE_LIMITS.json, what: 'trainer state'}),
      join(path, 'trainer.json'),
    );
    const weights = await readTensors(path, 'model', runDir);
    const optimizer = await readTensors(path, 'optimizer', runDir);
    const best = (await containedFileExists(path, 'best.json'))
      ? await readTensors(path, 'best', runDir)
      : undefined;
    return {path, state, weights, optimizer, ...(best ? {best} : {})};
  } catch (err) {
    // The containment rule's and the index's messages name the file and the field already.
    if (err instanceof ModelError) throw err;
    throw new ModelError(
      `checkpoint ${path} cannot be read: ${printable((err as Error).message)}`,
      'delete it to resume from an older one',
    );
  }
}

/** trainer.json's fields the trainer resumes from, checked; a ModelError names the field. */
function checkTrainerState(json: unknown, file: string): TrainerState {
  const state = json as TrainerState | null;
  const count = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  const fields: [string, unknown][] = [
    ['step', state?.step],
    ['data.epoch', state?.data?.epoch],
    ['data.batchIndex', state?.data?.batchIndex],
    ['data.orderSeed', state?.data?.orderSeed],
  ];
  const bad = fields.find(([, v]) => !count(v));
  if (typeof state !== 'object' || state === null || bad) {
    throw new ModelError(
      `${file}: ${bad ? `${bad[0]} is not a non-negative integer` : 'not a JSON object'}`,
      'the checkpoint is damaged; delete it to resume from an older one',
    );
  }
  return state;
}

/**
 * Throws a ModelError unless the checkpoint's weights (and best weights) match `variables` in number
 * and shape, position by position.
 */
export function checkFits(ckpt: LoadedCheckpoint, variables: readonly NamedVariable[]): void {
  const hint = 'resume with the same model config the run was started with';
  const check = (what: string, stored: readonly StoredTensor[]) => {
    if (stored.length !== variables.length) {
      throw new ModelError(
        `${ckpt.path}: ${what} holds ${stored.length} tensors, the model has ${variables.length}`,
        hint,
      );
    }
    for (const [i, s] of stored.entries()) {
      const v = variables[i]!;
      if (!tf.util.arraysEqual(s.shape, v.variable.shape)) {
        throw new ModelError(
          `${ckpt.path}: ${what} tensor ${i} (${s.name}) has shape [${s.shape}], the model's ${v.name} has [${v.variable.shape}]`,
          hint,
        );
      }
    }
  };
  check('model', ckpt.weights);
  if (ckpt.best) check('best', ckpt.best);
}

/** One warning per setting that differs between the checkpointed run and this one. */
export function settingChanges(
  before: Readonly<Record<string, unknown>>,
  now: Readonly<Record<string, unknown>>,
): string[] {
  return Object.entries(now)
    .filter(([key, value]) => key !== 'elapsed' && before[key] !== undefined && before[key] !== value)
    .map(
      ([key, value]) =>
        `resuming with ${key} ${value} (the run was started with ${before[key]}): it will not match an uninterrupted run`,
    );
}
