import {readdir, rename, rm, stat} from 'node:fs/promises';
import {basename, dirname, join, resolve} from 'node:path';
import {processAlive} from './process-alive.js';

/**
 * Cleans up after writers of `path` killed outright (kill -9: no exit hook ran), found by the pid
 * in the names an `OutputFile` or `OutputFolder` leaves beside it: a temporary file or folder
 * (`.NAME.<pid>-<random>.tmp`) is removed; an old folder moved aside for the rename of a commit
 * (`….tmp.old`) goes back in place when the kill came between the two renames (the command never
 * reported success, so the output stays as it was before it), or is removed. What a process still
 * running left, this one included, is left alone. Costs one listing of the parent folder.
 */
export async function settleKilledWriters(path: string): Promise<void> {
  const parent = dirname(resolve(path));
  const prefix = `.${basename(resolve(path))}.`;
  const names = await readdir(parent).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const match = /^(\d+)-[0-9a-f]{8}\.tmp(\.old)?$/.exec(name.slice(prefix.length));
    if (!match || processAlive(Number(match[1]))) continue;
    const leftover = join(parent, name);
    if (match[2] && !(await stat(path).catch(() => undefined))) await rename(leftover, path);
    else await rm(leftover, {recursive: true, force: true});
  }
}
