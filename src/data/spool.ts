import {createReadStream, createWriteStream} from 'node:fs';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import type {Readable} from 'node:stream';
import {pipeline} from 'node:stream/promises';
import {settle, trackOutput} from '../fs/pending-outputs.js';

/**
 * A stream copied to a temporary file, for steps that must read their input twice (balance counts
 * labels, then decides row by row): stdin cannot be rewound, and the disk, unlike memory, holds a
 * dataset of any size. `open()` reads it again from the start; `dispose()` deletes it.
 */
export interface Spool {
  bytes: number;
  open(): Readable;
  dispose(): Promise<void>;
}

export async function spool(input: Readable): Promise<Spool> {
  const dir = await mkdtemp(join(tmpdir(), 'deepseek-kit-'));
  // Removed on SIGINT/SIGTERM and at exit too, like the temporary files of outputs.
  const entry = trackOutput({path: dir, temp: dir, scratch: true});
  const dispose = async () => {
    await rm(dir, {recursive: true, force: true});
    settle(entry, 'abandoned');
  };
  const path = join(dir, 'input');
  let bytes = 0;
  try {
    input.on('data', (chunk: Buffer | string) => {
      bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    });
    await pipeline(input, createWriteStream(path));
  } catch (error) {
    await dispose();
    throw error;
  }
  return {bytes, open: () => createReadStream(path, {highWaterMark: 1 << 20}), dispose};
}
