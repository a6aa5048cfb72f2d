import {randomBytes} from 'node:crypto';
import {existsSync, renameSync, rmSync} from 'node:fs';
import {rename, rm} from 'node:fs/promises';
import {basename, dirname, join, resolve} from 'node:path';
import {checkpointsDir} from '../train/checkpoint.js';

/**
 * A run folder replaced with --overwrite by a job that writes it in place (train, finetune,
 * distill write checkpoints and metrics as they go, so they cannot build the folder elsewhere and
 * rename it in): the old folder is moved aside (`.NAME.<pid>-<random>.replaced`) instead of being
 * deleted, removed once the job has ended, and put back when the job fails or the process exits
 * before it ends — unless the new run has a checkpoint by then (an interrupted or diverged run
 * names it: --resume continues from there), which makes the new folder the run.
 */
interface Replacement {
  dir: string;
  /** Where the old folder waits; undefined until the job clears the folder. */
  aside?: string;
}

/** Folders of the jobs in flight, by absolute path. */
const jobs = new Map<string, Replacement>();
let exitHook = false;

/**
 * Puts the old folder back in place of the new one, or drops it when the new run has a checkpoint
 * to resume from (synchronous: also runs at exit).
 */
function settleSync(job: Replacement): void {
  if (!job.aside || !existsSync(job.aside)) return;
  if (existsSync(join(checkpointsDir(job.dir), 'latest'))) {
    rmSync(job.aside, {recursive: true, force: true});
  } else {
    rmSync(job.dir, {recursive: true, force: true});
    renameSync(job.aside, job.dir);
  }
  job.aside = undefined;
}

function restoreAtExit(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const job of jobs.values()) settleSync(job);
  });
}

/**
 * Runs `job`, which writes the run folder `dir`: a replacement of the folder it makes through
 * {@link clearRunFolder} is undone when the job throws before the new run has a checkpoint, and
 * made final when it returns.
 */
export async function withReplaceableRun<T>(dir: string, job: () => Promise<T>): Promise<T> {
  const key = resolve(dir);
  if (jobs.has(key)) return job();
  const entry: Replacement = {dir: key};
  jobs.set(key, entry);
  restoreAtExit();
  try {
    const result = await job();
    if (entry.aside) await rm(entry.aside, {recursive: true, force: true});
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
  const aside = join(
    dirname(job.dir),
    `.${basename(job.dir)}.${process.pid}-${randomBytes(4).toString('hex')}.replaced`,
  );
  await rename(dir, aside);
  job.aside = aside;
}
