import {rmSync} from 'node:fs';
import {mkdir, readFile, rm, rmdir, writeFile} from 'node:fs/promises';
import {hostname} from 'node:os';
import {basename, dirname, join, resolve} from 'node:path';
import {ModelError, printable} from '../errors.js';
import {processAlive} from '../fs/process-alive.js';
import {recoverReplacedRun, replacedLeftovers, withReplaceableRun} from './replaced-run.js';

/**
 * A lock on a run folder while a process writes it (train, finetune, distill): a file beside the
 * folder (`.NAME.lock`, so replacing the folder with --overwrite keeps it) holding the writer's pid,
 * host and start time, created exclusively. A second writer fails naming the holder; a lock whose
 * process is gone (same host, pid not running) is stale: it is named and taken over. The lock goes
 * when the writer releases it, and at exit whatever ends the process short of kill -9.
 */
export interface RunLockHolder {
  pid: number;
  host: string;
  /** ISO time the holder took the lock. */
  started: string;
}

export interface RunLock {
  /** The lock file. */
  path: string;
  /** The stale holder taken over, if any. */
  tookOver?: RunLockHolder;
  release(): Promise<void>;
}

/** The lock file of the run folder `dir`. */
export const lockPath = (dir: string) => join(dirname(resolve(dir)), `.${basename(resolve(dir))}.lock`);

const held = new Set<string>();
let exitHook = false;

function removeAtExit(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    // Synchronous: exit handlers cannot wait.
    for (const path of held) rmSync(path, {force: true});
  });
}

async function readHolder(path: string): Promise<RunLockHolder | undefined> {
  try {
    const json = JSON.parse(await readFile(path, 'utf8')) as RunLockHolder;
    return Number.isSafeInteger(json.pid) && typeof json.host === 'string' ? json : undefined;
  } catch {
    return undefined;
  }
}

const describe = (h: RunLockHolder) =>
  `pid ${h.pid} on ${printable(h.host, 80)} (since ${printable(String(h.started), 40)})`;

/** Takes the lock of run folder `dir`, or throws a ModelError naming the process that holds it. */
export async function lockRunFolder(dir: string): Promise<RunLock> {
  const path = lockPath(dir);
  // The parent is made for the lock if need be, and removed again on release if it stays empty.
  const made = await mkdir(dirname(path), {recursive: true});
  const me: RunLockHolder = {pid: process.pid, host: hostname(), started: new Date().toISOString()};
  let tookOver: RunLockHolder | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(path, `${JSON.stringify(me)}\n`, {flag: 'wx'});
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
    }
    const holder = await readHolder(path);
    if (holder && (holder.host !== me.host || processAlive(holder.pid))) {
      throw new ModelError(
        `${dir} is being written by ${describe(holder)}`,
        holder.host === me.host
          ? 'wait for it to finish, or write to another folder'
          : `if that process is gone, delete ${path}`,
      );
    }
    // Dead pid on this host, or an unreadable lock (a crash while writing it): stale.
    tookOver = holder ?? {pid: 0, host: 'unknown', started: 'unknown'};
    await rm(path, {force: true});
  }
  held.add(path);
  removeAtExit();
  return {
    path,
    ...(tookOver ? {tookOver} : {}),
    release: async () => {
      held.delete(path);
      await rm(path, {force: true});
      if (made) await rmdir(made).catch(() => undefined);
    },
  };
}

/** The note a command prints when it took over a stale lock. */
export function staleLockNote(dir: string, holder: RunLockHolder): string {
  return `${dir}: took over a stale lock of ${describe(holder)}, which is no longer running`;
}

/**
 * Runs `job` holding the lock of run folder `dir` (a stale lock taken over is told to `onInfo`);
 * the lock is released when the job ends, however it ends. A run folder the job replaces
 * (--overwrite) is put back when the job fails, and what a killed writer left beside the folder is
 * settled before the job starts, told to `onInfo` (replaced-run.ts).
 */
export async function withRunLock<T>(
  dir: string,
  onInfo: ((message: string) => void) | undefined,
  job: () => Promise<T>,
): Promise<T> {
  const lock = await lockRunFolder(dir);
  if (lock.tookOver) onInfo?.(staleLockNote(dir, lock.tookOver));
  try {
    return await withReplaceableRun(dir, onInfo, job);
  } finally {
    await lock.release();
  }
}

/**
 * Settles what a writer of `dir` killed during --overwrite left beside it (replaced-run.ts) for a
 * command that only reads the folder: under the folder's lock, so that no writer is half-way; a
 * folder another process holds is left as it is. Costs one listing of the parent folder when
 * nothing was left.
 */
export async function recoverReplacedRunLocked(
  dir: string,
  onInfo: ((message: string) => void) | undefined,
): Promise<void> {
  if (replacedLeftovers(resolve(dir)).length === 0) return;
  const lock = await lockRunFolder(dir).catch(() => undefined);
  if (!lock) return;
  try {
    recoverReplacedRun(dir, onInfo);
  } finally {
    await lock.release();
  }
}
