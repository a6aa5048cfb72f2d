import {randomBytes} from 'node:crypto';
import {createWriteStream, type WriteStream} from 'node:fs';
import {chmod, rename, stat, unlink} from 'node:fs/promises';
import {basename, dirname, join} from 'node:path';
import {settleKilledWriters} from './killed-writers.js';
import {outputError} from './output-error.js';
import {type OutputTarget, outputTarget} from './output-target.js';
import {assertOutsideInputs} from './path-relation.js';
import {type PendingOutput, settle, trackOutput} from './pending-outputs.js';

/**
 * One named output. A regular file is written under a temporary name beside it
 * (`.NAME.<pid>-<random>.tmp`) and renamed into place by `commit()`, so a failed or interrupted
 * run leaves the old file (or none) and never a half-written one; `abort()` and the process's signal
 * and exit hooks remove the temporary file. A FIFO or character device (`/dev/null`) is written in
 * place. Write errors (a full disk, a read-only file system) surface as an `OutputError` naming
 * the path, from `check()`, `commit()` or the writer waiting on the stream.
 */
export class OutputFile {
  /** The stream to write to; its errors are kept and reported by `check()` and `commit()`. */
  readonly stream: WriteStream;
  /** Set once the stream failed (mapped to an `OutputError` where it is one a user can fix). */
  error: unknown;
  /** The reader of a FIFO went away (EPIPE): like `| head`, not an error; writes are dropped. */
  readerGone = false;
  private readonly entry: PendingOutput;
  private done = false;

  private constructor(
    readonly target: Exclude<OutputTarget, {kind: 'stdout'}>,
    private readonly temp: string | undefined,
  ) {
    this.stream = createWriteStream(temp ?? target.path, {highWaterMark: 1 << 20});
    this.stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE' && temp === undefined) this.readerGone = true;
      else this.error ??= outputError(target.path, error);
    });
    this.entry = trackOutput({path: target.path, temp});
  }

  /** The path the user named. */
  get path(): string {
    return this.target.path;
  }

  /** True for a FIFO or device written in place (its reader sees rows as they come). */
  get inPlace(): boolean {
    return this.temp === undefined;
  }

  /**
   * Opens `path` for writing. Refuses a path that is one of `inputs`, lies inside one, or
   * contains one; a folder, block device or socket; a folder that does not exist.
   */
  static async open(path: string, inputs: readonly string[] = []): Promise<OutputFile> {
    const target = await outputTarget(path);
    if (target.kind === 'stdout')
      throw new TypeError('OutputFile.open("-"): write to process.stdout instead');
    let temp: string | undefined;
    let mode: number | undefined;
    if (target.kind === 'file') {
      await assertOutsideInputs(path, inputs);
      await settleKilledWriters(target.file);
      temp = join(
        dirname(target.file),
        `.${basename(target.file)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`,
      );
      mode = (await stat(target.file).catch(() => undefined))?.mode;
    }
    const file = new OutputFile(target, temp);
    try {
      await new Promise<void>((ok, fail) => {
        file.stream.once('open', () => ok());
        file.stream.once('error', fail);
      });
      // Replacing a file keeps its permissions.
      if (temp && mode !== undefined) await chmod(temp, mode & 0o7777);
    } catch (error) {
      await file.abort();
      throw outputError(path, error);
    }
    return file;
  }

  /** Throws the stream's error, if it failed. */
  check(): void {
    if (this.error !== undefined) throw this.error;
  }

  /** Flushes and closes the stream, then renames the temporary file onto the final name. */
  async commit(): Promise<void> {
    if (this.done) return;
    try {
      // A stream destroyed by an error reports it on the next tick: wait for it to close first.
      if (this.stream.destroyed) await this.closed();
      this.check();
      if (!this.readerGone) {
        await new Promise<void>((ok, fail) =>
          this.stream.end((error?: Error | null) => (error && !this.readerGone ? fail(error) : ok())),
        ).catch(async (error) => {
          await this.closed();
          this.check();
          throw error;
        });
      }
      if (this.temp) {
        this.entry.state = 'committing';
        await rename(this.temp, (this.target as {file: string}).file);
      }
    } catch (error) {
      await this.abort();
      throw outputError(this.path, error);
    }
    this.done = true;
    settle(this.entry, 'written');
  }

  private async closed(): Promise<void> {
    if (!this.stream.closed) await new Promise<void>((ok) => this.stream.once('close', () => ok()));
  }

  /** Stops writing and removes the temporary file; the final name is never touched. */
  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    this.stream.destroy();
    await this.closed();
    if (this.temp) await unlink(this.temp).catch(() => undefined);
    settle(this.entry, 'abandoned');
  }
}
