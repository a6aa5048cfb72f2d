import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {readDocs} from '../../../src/data/io/read-docs.js';
import {lineAlignedRanges} from '../../../src/data/io/shard.js';

const dir = mkdtempSync(join(tmpdir(), 'dsk-shard-'));
afterAll(() => rmSync(dir, {recursive: true, force: true}));

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of items) out.push(x);
  return out;
}

// Rows without ids get ids made from their line numbers: a range must number its lines as the
// whole file does, or the shards would name rows differently from single-process clean.
describe('byte-range shards', () => {
  const cases: [string, string][] = [
    ['rows of mixed lengths', 'ab'.repeat(40)],
    ['no line break at the end', 'x'],
    ['one long line among short ones', 'y'.repeat(3000)],
  ];
  for (const [name, filler] of cases) {
    it(`the ranges together read every row once, with the whole file's line numbers: ${name}`, async () => {
      const file = join(dir, `${name.replace(/\W/g, '-')}.jsonl`);
      const rows = Array.from({length: 37}, (_, i) =>
        JSON.stringify({text: `row ${i} ${i % 7 === 3 ? filler : filler.slice(0, i)}`}),
      );
      rows.splice(5, 0, ''); // a blank line: counted, no row
      writeFileSync(file, `\ufeff${rows.join('\n')}${filler === 'x' ? '' : '\n'}`);
      const whole = (await all(readDocs({input: file}))).map((d) => `${d.id} ${d.text}`);
      for (const count of [1, 2, 3, 8, 64]) {
        const ranges = await lineAlignedRanges(file, count);
        expect(ranges).toHaveLength(count);
        expect(ranges[0]!.start).toBe(0);
        for (const [i, r] of ranges.entries()) {
          if (i > 0) expect(r.start).toBe(ranges[i - 1]!.end);
          if (i > 0) expect(r.firstLine).toBe(ranges[i - 1]!.firstLine + ranges[i - 1]!.lines);
        }
        const parts: string[] = [];
        for (const [index, bytes] of ranges.entries()) {
          const docs = await all(readDocs({input: file, shard: {index, count, bytes}}));
          parts.push(...docs.map((d) => `${d.id} ${d.text}`));
        }
        expect(parts).toEqual(whole);
      }
    });
  }

  it('an empty file has empty ranges', async () => {
    const file = join(dir, 'empty.jsonl');
    writeFileSync(file, '');
    expect(await lineAlignedRanges(file, 3)).toEqual([
      {start: 0, end: 0, firstLine: 1, lines: 0},
      {start: 0, end: 0, firstLine: 1, lines: 0},
      {start: 0, end: 0, firstLine: 1, lines: 0},
    ]);
  });

  it('refuses a byte range on CSV, whose rows may span lines', async () => {
    const file = join(dir, 'rows.csv');
    writeFileSync(file, 'text\n"a\nb"\n');
    const bytes = {start: 0, end: 5, firstLine: 1, lines: 1};
    await expect(all(readDocs({input: file, shard: {index: 0, count: 1, bytes}}))).rejects.toThrow(
      /byte-range shard needs a JSONL/,
    );
  });
});
