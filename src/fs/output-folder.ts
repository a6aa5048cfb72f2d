import {randomBytes} from 'node:crypto';
import {mkdir, readdir, rename, rm, stat} from 'node:fs/promises';
import {basename, dirname, join, resolve} from 'node:path';
import {UserError} from '../errors.js';
import {settleKilledWriters} from './killed-writers.js';
import {OutputError, outputError} from './output-error.js';
import {assertOutsideInputs} from './path-relation.js';
import {type PendingOutput, settle, trackOutput} from './pending-outputs.js';

export interface OutputFolderOptions {
  /** Paths the command reads (a run folder, a data file): the output may not be, hold or lie in one. */
  inputs?: readonly (string | undefined)[];
  /** Replace a folder that already holds files (it is removed only once the new one is complete). */
  overwrite?: boolean;
  /** The flag that names the folder, for messages. Default `--out`. */
  flag?: string;
}

/**
 * A folder written whole or not at all (an exported model, a quantized run): files go into a hidden
 * temporary folder beside it (`.NAME.<pid>-<random>.tmp/`), which `commit()` renames into place. A
 * failed or interrupted command leaves the old folder as it was and no temporary folder; with
 * `overwrite`, the old folder is removed only after the new one is complete, and never when it is,
 * holds or lies inside an input.
 */
export class OutputFolder {
  private done = false;

  private constructor(
    readonly path: string,
    /** Where to write the folder's files until `commit()`. */
    readonly temp: string,
    private readonly entry: PendingOutput,
  ) {}

  static async create(path: string, options: OutputFolderOptions = {}): Promise<OutputFolder> {
    const flag = options.flag ?? '--out';
    await assertOutsideInputs(path, options.inputs ?? [], `${flag} ${path}`);
    await settleKilledWriters(path);
    const existing = await stat(path).catch(() => undefined);
    if (existing && !existing.isDirectory()) {
      throw new OutputError(`${flag} ${path} is a file, not a folder`, `choose another ${flag}`);
    }
    if (existing && !options.overwrite && (await readdir(path)).length > 0) {
      throw new UserError(
        `${flag} ${path} already holds files`,
        'pass --overwrite to replace it, or choose another folder',
      );
    }
    const parent = dirname(resolve(path));
    const temp = join(
      parent,
      `.${basename(resolve(path))}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`,
    );
    const entry = trackOutput({path, temp});
    try {
      await mkdir(temp, {recursive: true});
    } catch (error) {
      settle(entry, 'abandoned');
      throw outputError(path, error, 'create the folder');
    }
    return new OutputFolder(path, temp, entry);
  }

  /** Puts the finished folder in place of `path` (an old one there is removed afterwards). */
  async commit(): Promise<void> {
    if (this.done) return;
    const old = `${this.temp}.old`;
    let moved = false;
    try {
      if (await stat(this.path).catch(() => undefined)) {
        this.entry.backup = old;
        await rename(this.path, old);
        moved = true;
      }
      this.entry.state = 'committing';
      await rename(this.temp, this.path);
    } catch (error) {
      if (moved) await rename(old, this.path).catch(() => undefined);
      await this.abort();
      throw outputError(this.path, error);
    }
    this.done = true;
    settle(this.entry, 'written');
    if (moved) await rm(old, {recursive: true, force: true});
  }

  /** Removes the temporary folder; `path` is never touched. */
  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await rm(this.temp, {recursive: true, force: true});
    settle(this.entry, 'abandoned');
  }
}

/**
 * Writes the folder `path` whole or not at all: `job` fills the temporary folder it is given, and
 * what it returns is returned once the folder is in place. The checks of {@link OutputFolder.create}
 * come first (an input is never the output; a folder with files needs `overwrite`); a job that
 * throws leaves neither the new folder nor its temporary one, and an old folder as it was.
 */
export async function writeOutputFolder<T>(
  path: string,
  options: OutputFolderOptions,
  job: (temp: string) => Promise<T>,
): Promise<T> {
  const folder = await OutputFolder.create(path, options);
  try {
    const result = await job(folder.temp);
    await folder.commit();
    return result;
  } finally {
    await folder.abort();
  }
}
