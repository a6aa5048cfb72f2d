import {closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {outputError} from '../../fs/output-error.js';

/**
 * The texts of kept documents, appended to a temporary file so that near dedup can check a
 * candidate against the kept text itself while memory holds only 8 bytes of offset per document.
 * Writes go through a buffer; a read of a text still in the buffer is served from it. The file is
 * removed on `close` (and, where the platform allows, unlinked right after opening, so a crash
 * leaves nothing behind).
 */
export class TextSpool {
  private fd: number | undefined;
  /** The folder of the file, while it has to be removed at `close` (Windows cannot unlink an open file). */
  private dir: string | undefined;
  private buffer = Buffer.alloc(1 << 20);
  private buffered = 0;
  /** File bytes before the buffer. */
  private flushed = 0;
  private offsets = new Float64Array(1024);
  private count = 0;
  private readBuffer = Buffer.alloc(1 << 16);

  /** Appends `text`; returns its index. */
  add(text: string): number {
    const room = text.length * 3; // UTF-8 bytes per UTF-16 unit, at most
    if (this.buffered + room > this.buffer.length) {
      this.flush();
      if (room > this.buffer.length) this.buffer = Buffer.alloc(grow(this.buffer.length, room));
    }
    this.buffered += this.buffer.write(text, this.buffered, 'utf8');
    if (this.count + 1 >= this.offsets.length) {
      const bigger = new Float64Array(this.offsets.length * 2);
      bigger.set(this.offsets);
      this.offsets = bigger;
    }
    this.offsets[++this.count] = this.flushed + this.buffered;
    return this.count - 1;
  }

  get(index: number): string {
    const start = this.offsets[index]!;
    const end = this.offsets[index + 1]!;
    if (start >= this.flushed) {
      return this.buffer.toString('utf8', start - this.flushed, end - this.flushed);
    }
    const length = end - start;
    if (length > this.readBuffer.length) this.readBuffer = Buffer.alloc(grow(this.readBuffer.length, length));
    let got = 0;
    while (got < length) got += readSync(this.fd!, this.readBuffer, got, length - got, start + got);
    return this.readBuffer.toString('utf8', 0, length);
  }

  get size(): number {
    return this.count;
  }

  /** Bytes held in memory (buffers and offsets); the texts themselves are on disk. */
  get memoryBytes(): number {
    return this.buffer.length + this.readBuffer.length + this.offsets.byteLength;
  }

  /** Bytes of text written so far (file and buffer). */
  get diskBytes(): number {
    return this.flushed + this.buffered;
  }

  /** Closes and removes the file. The spool can not be used after. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    if (this.dir) rmSync(this.dir, {recursive: true, force: true});
    this.dir = undefined;
  }

  private flush(): void {
    if (this.buffered === 0) return;
    if (this.fd === undefined) this.open();
    let done = 0;
    try {
      while (done < this.buffered) done += writeSync(this.fd!, this.buffer, done, this.buffered - done);
    } catch (error) {
      // A full disk or the file size limit: an error the user can act on, naming the spool.
      throw outputError(`near dedup's spool of kept texts in ${tmpdir()}`, error);
    }
    this.flushed += this.buffered;
    this.buffered = 0;
  }

  private open(): void {
    const dir = mkdtempSync(join(tmpdir(), 'dsk-near-'));
    this.fd = openSync(join(dir, 'kept.txt'), 'w+');
    if (process.platform === 'win32') this.dir = dir;
    else rmSync(dir, {recursive: true, force: true}); // the open file lives on, nameless
  }
}

function grow(size: number, need: number): number {
  while (size < need) size *= 2;
  return size;
}
