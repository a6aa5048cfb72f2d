import {closeSync, fstatSync, openSync, readSync} from 'node:fs';
import {mkdir} from 'node:fs/promises';
import {dirname} from 'node:path';
import {OutputFile} from '../../fs/output-file.js';

/**
 * The stages' files: fixed-size little-endian records, written whole under a temporary name and
 * renamed into place by `commit` (src/fs), so a worker that dies leaves no file a later stage could
 * half read; re-running the stage writes the same bytes.
 */
export class RecordWriter {
  private buffer: Buffer;
  private used = 0;
  /** Bytes written so far (an offset into the file for the next write). */
  written = 0;

  private constructor(
    private readonly file: OutputFile,
    chunk: number,
  ) {
    this.buffer = Buffer.alloc(chunk);
  }

  static async open(path: string, chunk = 1 << 20): Promise<RecordWriter> {
    await mkdir(dirname(path), {recursive: true});
    return new RecordWriter(await OutputFile.open(path), chunk);
  }

  /** A view of `bytes` fresh bytes at the end of the file (zeroed), valid until the next call. */
  async reserve(bytes: number): Promise<DataView> {
    if (this.used + bytes > this.buffer.length) await this.flush(bytes);
    const view = new DataView(this.buffer.buffer, this.buffer.byteOffset + this.used, bytes);
    this.buffer.fill(0, this.used, this.used + bytes);
    this.used += bytes;
    this.written += bytes;
    return view;
  }

  /** Appends raw bytes (spool text). */
  async append(bytes: Uint8Array): Promise<void> {
    if (this.used + bytes.length > this.buffer.length) await this.flush(bytes.length);
    this.buffer.set(bytes, this.used);
    this.used += bytes.length;
    this.written += bytes.length;
  }

  async commit(): Promise<void> {
    await this.flush(0);
    await this.file.commit();
  }

  async abort(): Promise<void> {
    await this.file.abort();
  }

  private async flush(next: number): Promise<void> {
    if (this.used > 0) {
      const full = this.buffer.subarray(0, this.used);
      const ok = this.file.stream.write(Buffer.from(full));
      if (!ok) await new Promise<void>((done) => this.file.stream.once('drain', () => done()));
      this.file.check();
    }
    this.used = 0;
    if (next > this.buffer.length) this.buffer = Buffer.alloc(next);
  }
}

/** Reads a record file front to back, a chunk at a time, or one record anywhere. */
export class RecordReader {
  readonly records: number;
  private readonly fd: number;
  private readonly chunk: Buffer;
  private start = 0; // record index of chunk[0]
  private count = 0; // records in chunk
  private next = 0; // next record index to read
  private readonly one: Buffer;

  constructor(
    readonly path: string,
    readonly stride: number,
  ) {
    this.fd = openSync(path, 'r');
    this.records = Math.floor(fstatSync(this.fd).size / stride);
    this.chunk = Buffer.alloc(Math.max(1, Math.floor((1 << 20) / stride)) * stride);
    this.one = Buffer.alloc(stride);
  }

  /** The next record, or undefined at the end. */
  read(): DataView | undefined {
    if (this.next >= this.records) return undefined;
    if (this.next >= this.start + this.count) {
      this.start = this.next;
      const bytes = readSync(this.fd, this.chunk, 0, this.chunk.length, this.start * this.stride);
      this.count = Math.floor(bytes / this.stride);
    }
    const at = (this.next++ - this.start) * this.stride;
    return new DataView(this.chunk.buffer, this.chunk.byteOffset + at, this.stride);
  }

  /** Record `index` (valid until the next `at`). */
  at(index: number): DataView {
    readSync(this.fd, this.one, 0, this.stride, index * this.stride);
    return new DataView(this.one.buffer, this.one.byteOffset, this.stride);
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Reads `length` bytes at `offset` of a file opened with openSync. */
export function readBytes(fd: number, offset: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  readSync(fd, out, 0, length, offset);
  return out;
}

/** Writes a record file whole: `body` fills it, then it is renamed into place (or removed on error). */
export async function writeRecords(path: string, body: (out: RecordWriter) => Promise<void>): Promise<void> {
  const out = await RecordWriter.open(path);
  try {
    await body(out);
    await out.commit();
  } catch (error) {
    await out.abort();
    throw error;
  }
}

/** A copy of `a` twice as long (the stages' growing columns). */
export function grown<T extends Int32Array | Uint32Array | Float64Array>(a: T): T {
  const b = new (a.constructor as new (n: number) => T)(a.length * 2);
  b.set(a);
  return b;
}
