import {mkdir, rmdir, stat} from 'node:fs/promises';
import {dirname, resolve} from 'node:path';
import {OutputError, outputError} from './output-error.js';
import {type PendingOutput, settle, trackOutput} from './pending-outputs.js';

/**
 * A folder for outputs (`split --out-dir`), created with its missing parents. The folders this
 * made are removed again when the step fails or is interrupted before writing into them, so a
 * failed run leaves no empty folder behind.
 */
export class OutputDir {
  private constructor(
    readonly path: string,
    private readonly made: PendingOutput[],
  ) {}

  static async create(path: string): Promise<OutputDir> {
    const existing = await stat(path).catch(() => undefined);
    if (existing && !existing.isDirectory()) {
      throw new OutputError(`cannot use ${path} as a folder: it is a file`, 'choose another --out-dir');
    }
    let first: string | undefined;
    try {
      first = await mkdir(path, {recursive: true});
    } catch (error) {
      throw outputError(path, error, 'create the folder');
    }
    const made: PendingOutput[] = [];
    if (first !== undefined) {
      // From the outermost folder made down to `path`; discarded deepest first.
      const chain: string[] = [];
      for (let dir = resolve(path); ; dir = dirname(dir)) {
        chain.unshift(dir);
        if (dir === resolve(first) || dirname(dir) === dir) break;
      }
      for (const dir of chain) made.push(trackOutput({path: dir, createdDir: true}));
    }
    return new OutputDir(path, made);
  }

  /** The outputs are written: the folders stay. */
  keep(): void {
    for (const entry of this.made) settle(entry, 'written');
  }

  /** The step failed: removes the folders this made, deepest first, where they are still empty. */
  async discard(): Promise<void> {
    for (const entry of [...this.made].reverse()) {
      await rmdir(entry.path).catch(() => undefined);
      settle(entry, 'abandoned');
    }
  }
}
