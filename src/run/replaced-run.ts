import {randomBytes} from 'node:crypto';
import {existsSync, readdirSync, renameSync, rmSync, statSync} from 'node:fs';
import {rename, rm} from 'node:fs/promises';
import {basename, dirname, join, resolve} from 'node:path';
import {processAlive} from '../fs/process-alive.js';
import {checkpointsDir} from '../train/checkpoint.js';

/**
 * A run folder replaced with --overwrite by a job that writes it in place (train, finetune,
 * distill write checkpoints and metrics as they go, so they cannot build the folder elsewhere and
 * rename it in): the old folder is moved aside (`.NAME.<pid>-<random>.replaced`) instead of being
 * deleted, removed once the job has ended, and put back when the job fails or the process exits
 * before it ends — unless the new run has a checkpoint by then (an interrupted or diverged run
 * names it: --resume continues from there), which makes the new folder the run.
 *
 * A process killed outright (kill -9, the machine losing power) runs no exit hook and leaves the old
 * folder aside: the next job on the folder, and the next load of it, settle that leftover the same
 * way ({@link recoverReplacedRun}). Every step is a rename, and a folder to delete is first renamed
 * to `.NAME.<pid>-<random>.discard`, so a kill at any point leaves a state the next command settles.
 */
interface Replacement {
  dir: string;
  /** Where the old folder waits; undefined until the job clears the folder. */
  aside?: string;
}

/** Folders of the jobs in flight, by absolute path. */
const jobs = new Map<string, Replacement>();
let exitHook = false;

/** A name beside the folder `dir` (absolute) that this process owns: `.NAME.<pid>-<random>.<what>`. */
function besideName(dir: string, what: 'replaced' | 'discard'): string {
  return join(dirname(dir), `.${basename(dir)}.${process.pid}-${randomBytes(4).toString('hex')}.${what}`);
}

/** Deletes `path` (beside or at `dir`), renamed away first so that no kill leaves half of it under a name that counts. */
function discardSync(dir: string, path: string): void {
  const trash = besideName(dir, 'discard');
  renameSync(path, trash);
  rmSync(trash, {recursive: true, force: true});
}

/** The new run is the run: it has a checkpoint to resume from, or a finished model (run-folder.ts RUN_FILES). */
function newRunStays(dir: string): boolean {
  return existsSync(join(checkpointsDir(dir), 'latest')) || existsSync(join(dir, 'model', 'model.json'));
}

/** Puts the old folder back in place of the new one, or drops it when the new run stays (synchronous: also runs at exit). */
function settleAside(dir: string, aside: string): 'restored' | 'removed' {
  if (newRunStays(dir)) {
    discardSync(dir, aside);
    return 'removed';
  }
  if (existsSync(dir)) discardSync(dir, dir);
  renameSync(aside, dir);
  return 'restored';
}

function settleSync(job: Replacement): void {
  if (job.aside && existsSync(job.aside)) settleAside(job.dir, job.aside);
  job.aside = undefined;
}

function restoreAtExit(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const job of jobs.values()) settleSync(job);
  });
}

/** What {@link recoverReplacedRun} did with one old folder left aside. */
export interface ReplacedRunRecovery {
  /** Put back in place of a new run that has no checkpoint, or removed because the new run has one. */
  action: 'restored' | 'removed';
  /** Where the old folder had been left. */
  aside: string;
}

/**
 * The folders that processes no longer running left beside `dir` (absolute): old runs set aside,
 * and folders they were deleting. A process's folders are left alone while it runs (and this
 * process's while its job on `dir` runs).
 */
export function replacedLeftovers(dir: string): {path: string; what: 'replaced' | 'discard'}[] {
  const prefix = `.${basename(dir)}.`;
  let names: string[];
  try {
    names = readdirSync(dirname(dir));
  } catch {
    return [];
  }
  const found: {path: string; what: 'replaced' | 'discard'}[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const match = /^(\d+)-[0-9a-f]{8}\.(replaced|discard)$/.exec(name.slice(prefix.length));
    if (!match) continue;
    const pid = Number(match[1]);
    if (pid === process.pid ? jobs.has(dir) : processAlive(pid)) continue;
    found.push({path: join(dirname(dir), name), what: match[2] as 'replaced' | 'discard'});
  }
  return found;
}

/**
 * Settles what a process killed during `--overwrite` left beside the run folder `dir`: the old run
 * comes back when the new one has no checkpoint yet (the partial new folder goes), and is removed
 * when the new one has a checkpoint or a model; half-deleted folders go. Each old run settled is
 * told to `onInfo` in one line. Call it holding the folder's lock (run-lock.ts), or where no other
 * process can be writing the folder.
 */
export function recoverReplacedRun(dir: string, onInfo?: (message: string) => void): ReplacedRunRecovery[] {
  const key = resolve(dir);
  const found = replacedLeftovers(key);
  for (const {path} of found.filter((f) => f.what === 'discard'))
    rmSync(path, {recursive: true, force: true});
  // Oldest first: the run set aside first is the one before every interrupted attempt.
  const asides = found
    .filter((f) => f.what === 'replaced')
    .map((f) => ({path: f.path, time: statSync(f.path, {throwIfNoEntry: false})?.ctimeMs ?? 0}))
    .sort((a, b) => a.time - b.time);
  return asides.map(({path}) => {
    const action = settleAside(key, path);
    onInfo?.(
      action === 'restored'
        ? `${dir}: put back the previous run, which an --overwrite killed before its first checkpoint had moved to ${basename(path)}`
        : `${dir}: removed the previous run ${basename(path)}, left by a killed --overwrite; the new run has a checkpoint (or a model) and stays`,
    );
    return {action, aside: path};
  });
}

/**
 * Runs `job`, which writes the run folder `dir`: a replacement of the folder it makes through
 * {@link clearRunFolder} is undone when the job throws before the new run has a checkpoint, and
 * made final when it returns. What a killed earlier job left beside the folder is settled first
 * ({@link recoverReplacedRun}, told to `onInfo`).
 */
export async function withReplaceableRun<T>(
  dir: string,
  onInfo: ((message: string) => void) | undefined,
  job: () => Promise<T>,
): Promise<T> {
  const key = resolve(dir);
  if (jobs.has(key)) return job();
  recoverReplacedRun(dir, onInfo);
  const entry: Replacement = {dir: key};
  jobs.set(key, entry);
  restoreAtExit();
  try {
    const result = await job();
    if (entry.aside && existsSync(entry.aside)) discardSync(key, entry.aside);
    entry.aside = undefined;
    return result;
  } catch (err) {
    settleSync(entry);
    throw err;
  } finally {
    jobs.delete(key);
  }
}

/**
 * Empties the run folder `dir` for a new run: inside {@link withReplaceableRun} the old folder is
 * moved aside until the job ends; elsewhere (a library call without a job) it is removed.
 */
export async function clearRunFolder(dir: string): Promise<void> {
  const job = jobs.get(resolve(dir));
  if (!job || job.aside) {
    await rm(dir, {recursive: true, force: true});
    return;
  }
  const aside = besideName(job.dir, 'replaced');
  await rename(dir, aside);
  job.aside = aside;
}
