import {open} from 'node:fs/promises';
import {UserError} from '../../errors.js';

/**
 * Shard `index` of `count` (0 ≤ index < count): the rows whose ordinal ≡ index (mod count), or,
 * with `bytes`, the rows of one line-aligned byte range of the input.
 */
export interface ShardSpec {
  index: number;
  count: number;
  /** JSONL and one-per-line text: the shard is the lines of this range, and only it is read. */
  bytes?: ByteRange;
}

/** Whole lines of a file: bytes [start, end), whose first line is line `firstLine` (from 1). */
export interface ByteRange {
  start: number;
  end: number;
  firstLine: number;
  /** Lines in the range (the last one may lack its line break). */
  lines: number;
}

/**
 * Parses `i/n` (`--shard 3/16`). The assignment is by row ordinal, round robin — a JSONL or
 * one-per-line text row's ordinal is its line number − 1, so a shard skips the other shards'
 * lines without parsing them; a CSV row's or paragraph's is its index among the rows — so it
 * depends only on the input and `n`, never on timing or the machine.
 */
export function parseShard(spec: string): ShardSpec {
  const m = /^(\d+)\/(\d+)$/.exec(spec.trim());
  const index = m ? Number(m[1]) : Number.NaN;
  const count = m ? Number(m[2]) : Number.NaN;
  if (!(count >= 1 && index >= 0 && index < count)) {
    throw new UserError(
      `--shard ${spec}: expected i/n with 0 <= i < n`,
      'e.g. --shard 0/4 … --shard 3/4 for four workers (a scheduler array index is i)',
    );
  }
  return {index, count};
}

/** True when row `ordinal` belongs to `shard` (every row does without one). */
export function inShard(ordinal: number, shard: ShardSpec | undefined): boolean {
  if (shard === undefined) return true;
  const range = shard.bytes;
  if (range) return ordinal >= range.firstLine - 1 && ordinal < range.firstLine - 1 + range.lines;
  return ordinal % shard.count === shard.index;
}

/**
 * Cuts a file into `count` ranges of whole lines of about equal bytes, in one pass that counts
 * line breaks (each range must know the number of its first line: ids made from line numbers and
 * error messages stay those of the whole file). A range may be empty when lines are long.
 */
export async function lineAlignedRanges(path: string, count: number): Promise<ByteRange[]> {
  const handle = await open(path, 'r');
  try {
    const size = (await handle.stat()).size;
    // Range k (k ≥ 1) starts at the first line start at or after k·size/count, or at the end.
    const cuts = Array.from({length: count}, (_, k) => Math.floor((k * size) / count));
    const starts: {start: number; firstLine: number}[] = [];
    const lineStart = (at: number, firstLine: number) => {
      while (starts.length < count && cuts[starts.length]! <= at) starts.push({start: at, firstLine});
    };
    lineStart(0, 1);
    const buf = Buffer.alloc(1 << 20);
    let breaks = 0;
    let last = -1;
    for (let pos = 0; pos < size; ) {
      const got = (await handle.read(buf, 0, buf.length, pos)).bytesRead;
      if (got === 0) break;
      const chunk = buf.subarray(0, got);
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) {
        breaks++;
        if (pos + i + 1 < size) lineStart(pos + i + 1, breaks + 1);
      }
      last = chunk[got - 1]!;
      pos += got;
    }
    const total = breaks + (size > 0 && last !== 10 ? 1 : 0);
    while (starts.length < count) starts.push({start: size, firstLine: total + 1});
    return starts.map(({start, firstLine}, k) => {
      const next = starts[k + 1] ?? {start: size, firstLine: total + 1};
      return {start, end: next.start, firstLine, lines: next.firstLine - firstLine};
    });
  } finally {
    await handle.close();
  }
}
