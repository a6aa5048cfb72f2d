import {createWriteStream, type WriteStream} from 'node:fs';
import {rename, stat, unlink} from 'node:fs/promises';
import {basename, dirname, join, resolve} from 'node:path';
import {UserError} from '../../errors.js';

/**
 * A named output written under a temporary name in the same folder and renamed into place only
 * when the step succeeds, so a failed run leaves no partial file (and an old file stays intact).
 */
export class OutputFile {
  readonly stream: WriteStream;
  private readonly tmp: string;
  private done = false;

  private constructor(readonly path: string) {
    this.tmp = join(dirname(path), `.${basename(path)}.${process.pid}-${Date.now().toString(36)}.tmp`);
    this.stream = createWriteStream(this.tmp, {highWaterMark: 1 << 20});
  }

  /** Opens `path` for writing, refusing any path that is one of `inputs` (or the same file). */
  static async open(path: string, inputs: readonly string[] = []): Promise<OutputFile> {
    await assertNotInput(path, inputs);
    const folder = await stat(dirname(resolve(path))).catch(() => undefined);
    if (!folder?.isDirectory()) {
      throw new UserError(`cannot write ${path}: folder ${dirname(path)} does not exist`, 'create it first');
    }
    const file = new OutputFile(path);
    await new Promise<void>((ok, fail) => {
      file.stream.once('open', () => ok());
      file.stream.once('error', (error) => fail(new UserError(`cannot write ${path}: ${error.message}`)));
    });
    return file;
  }

  /** Flushes, closes and renames the temporary file onto the final name. */
  async commit(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await new Promise<void>((ok, fail) =>
      this.stream.end((error?: Error | null) => (error ? fail(error) : ok())),
    );
    await rename(this.tmp, this.path);
  }

  /** Discards the temporary file; the final name is never touched. */
  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await new Promise<void>((ok) => {
      this.stream.once('close', () => ok());
      this.stream.destroy();
    });
    await unlink(this.tmp).catch(() => undefined);
  }
}

/** Refuses to write onto an input: same path, or another name of the same file (link). */
export async function assertNotInput(output: string, inputs: readonly string[]): Promise<void> {
  const out = await stat(output).catch(() => undefined);
  for (const input of inputs) {
    const same =
      resolve(output) === resolve(input) ||
      (out !== undefined &&
        (await stat(input).then(
          (s) => s.ino === out.ino && s.dev === out.dev,
          () => false,
        )));
    if (same) {
      throw new UserError(
        `refusing to overwrite the input ${input} with ${output}`,
        'write to a new file, then rename it if you want to replace the input',
      );
    }
  }
}
