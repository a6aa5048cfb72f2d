import {isUtf8} from 'node:buffer';
import {DatasetError} from '../../errors.js';

/** One line of a text stream, numbered from 1, without its line ending. */
export interface Line {
  text: string;
  line: number;
}

/**
 * Lines handed over per batch, in bytes: a read chunk (1 MiB) is split into batches of about this
 * much, so the rows alive at a garbage collection are a batch's, not a whole chunk's (with 1 MiB
 * batches, the young-generation collections copying them took about half of `clean`'s read/write time).
 */
const BATCH_BYTES = 1 << 16;

/** Longest line accepted: a line this long is a sign of a binary file or a missing line break. */
export const MAX_LINE_BYTES = 256 * 1024 * 1024;

/**
 * Splits a byte stream into lines (LF or CRLF) and yields the complete lines of each chunk in
 * batches of about BATCH_BYTES, so a consumer pays one await per batch, not per line. Lines are found in the bytes and
 * decoded one by one (a UTF-8 sequence never contains the newline byte, so a character split
 * between chunks stays whole in the carried-over partial line); a leading byte-order mark is
 * dropped. `firstLine` numbers the first line (a byte range of a file starts further on; only
 * line 1 may start with a byte-order mark). Memory holds one chunk plus the unfinished line. `onBytes` is told the byte count after
 * each chunk (progress); `onInvalidUtf8` the number of each line holding bytes that are not UTF-8
 * (decoded as U+FFFD), checked a chunk at a time and line by line only in a chunk that fails.
 */
export async function* readLines(
  input: AsyncIterable<Buffer | string>,
  source: string,
  onBytes?: (bytes: number) => void,
  onInvalidUtf8?: (line: number) => void,
  firstLine = 1,
): AsyncGenerator<Line[]> {
  let rest: Buffer | undefined;
  let line = firstLine - 1;
  let bytes = 0;
  // A byte-order mark only at the start of the file, not of a range that starts further on.
  let first = firstLine === 1;
  for await (const chunk of input) {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    bytes += buf.length;
    if (first && buf.length > 0) {
      first = false;
      if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
    }
    let batch: Line[] = [];
    let start = 0;
    let nl = buf.indexOf(10);
    if (rest && nl !== -1) {
      // The line that began in an earlier chunk.
      const bytes = Buffer.concat([rest, buf.subarray(0, nl)]);
      batch.push({text: decodeLine(bytes), line: ++line});
      if (onInvalidUtf8 && !isUtf8(bytes)) onInvalidUtf8(line);
      rest = undefined;
      start = nl + 1;
      nl = buf.indexOf(10, start);
    }
    // The whole lines of this chunk are checked at once; a chunk that fails, line by line.
    const lastNl = buf.lastIndexOf(10);
    const check = onInvalidUtf8 && lastNl >= start && !isUtf8(buf.subarray(start, lastNl));
    let batchStart = start;
    for (; nl !== -1; nl = buf.indexOf(10, start)) {
      const end = nl > start && buf[nl - 1] === 13 ? nl - 1 : nl;
      batch.push({text: buf.toString('utf8', start, end), line: ++line});
      if (check && !isUtf8(buf.subarray(start, end))) onInvalidUtf8(line);
      start = nl + 1;
      if (start - batchStart >= BATCH_BYTES) {
        yield batch;
        batch = [];
        batchStart = start;
      }
    }
    if (start < buf.length) {
      // Copy: the partial line must not pin the whole chunk.
      rest = rest ? Buffer.concat([rest, buf.subarray(start)]) : Buffer.from(buf.subarray(start));
      if (rest.length > MAX_LINE_BYTES) {
        throw new DatasetError(
          `${source} line ${line + 1}: line longer than ${MAX_LINE_BYTES} bytes`,
          'is this a binary file, or a file without line breaks? Check --format',
        );
      }
    }
    onBytes?.(bytes);
    if (batch.length > 0) yield batch;
  }
  if (rest && rest.length > 0) {
    const last = {text: decodeLine(rest), line: ++line};
    if (onInvalidUtf8 && !isUtf8(rest)) onInvalidUtf8(line);
    yield [last];
  }
}

function decodeLine(bytes: Buffer): string {
  const end = bytes.length > 0 && bytes[bytes.length - 1] === 13 ? bytes.length - 1 : bytes.length;
  return bytes.toString('utf8', 0, end);
}
