import {existsSync, linkSync, mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {Writable} from 'node:stream';
import {describe, expect, it} from 'vitest';
import type {Doc} from '../../../src/data/doc.js';
import {readDocs} from '../../../src/data/io/read-docs.js';
import {DocWriter, writeDocs} from '../../../src/data/io/write-docs.js';
import {UserError} from '../../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'dsk-write-'));
const DOCS: Doc[] = [
  {id: 'a1', text: 'hello, "world"', label: 'pos', fields: {src: 'x', meta: {n: 1}}},
  {id: 'a2', text: 'two\nlines\tand tab', label: 'neg', weight: 0.25, fields: {src: 'y', meta: {n: 2}}},
];

async function readBack(path: string): Promise<Doc[]> {
  const docs: Doc[] = [];
  for await (const doc of readDocs({input: path})) docs.push(doc);
  return docs;
}

describe('writeDocs', () => {
  it('round-trips JSONL exactly, every field kept', async () => {
    const path = join(dir, 'out.jsonl');
    await writeDocs(DOCS, {output: path});
    expect(await readBack(path)).toEqual(DOCS);
    expect(readFileSync(path, 'utf8').split('\n')[0]).toBe(
      '{"id":"a1","text":"hello, \\"world\\"","label":"pos","src":"x","meta":{"n":1}}',
    );
  });

  it('round-trips CSV and TSV (objects as JSON cells, weight as a column)', async () => {
    for (const ext of ['csv', 'tsv']) {
      const path = join(dir, `out.${ext}`);
      await writeDocs(DOCS, {output: path, columns: ['weight']});
      const back = await readBack(path);
      expect(back.map((d) => [d.id, d.text, d.label, d.weight, d.fields.src, d.fields.meta])).toEqual([
        ['a1', 'hello, "world"', 'pos', undefined, 'x', '{"n":1}'],
        ['a2', 'two\nlines\tand tab', 'neg', 0.25, 'y', '{"n":2}'],
      ]);
    }
  });

  it('CSV output refuses a field the header lacks, and says to write JSONL', async () => {
    const path = join(dir, 'varying.csv');
    const docs: Doc[] = [DOCS[0]!, {id: 'b', text: 't', fields: {augmented: true}}];
    await expect(writeDocs(docs, {output: path})).rejects.toThrow(/field "augmented".*JSONL/);
    expect(existsSync(path)).toBe(false);
  });

  it('writes plain text one document per line, or as blank-line paragraphs', async () => {
    await writeDocs(DOCS, {output: join(dir, 'out.txt')});
    expect(readFileSync(join(dir, 'out.txt'), 'utf8')).toBe('hello, "world"\ntwo lines\tand tab\n');
    await writeDocs(DOCS, {output: join(dir, 'para.txt'), docSep: 'blank'});
    expect(readFileSync(join(dir, 'para.txt'), 'utf8')).toBe('hello, "world"\n\ntwo\nlines\tand tab\n\n');
  });

  it('a failure part-way leaves no output file, and an existing file untouched', async () => {
    const path = join(dir, 'atomic.jsonl');
    writeFileSync(path, 'old contents\n');
    async function* failing(): AsyncGenerator<Doc> {
      for (let i = 0; i < 50_000; i++) yield {id: String(i), text: 'x'.repeat(50), fields: {}};
      throw new Error('boom');
    }
    await expect(writeDocs(failing(), {output: path})).rejects.toThrow('boom');
    expect(readFileSync(path, 'utf8')).toBe('old contents\n');
    expect(readdirSync(dir).filter((f) => f.includes('atomic') && f.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses to write onto an input, by path or by another name of the same file', async () => {
    const input = join(dir, 'in.jsonl');
    writeFileSync(input, '{"text":"x"}\n');
    await expect(writeDocs(DOCS, {output: input, inputs: [input]})).rejects.toThrow(UserError);
    await expect(writeDocs(DOCS, {output: join(dir, '.', 'in.jsonl'), inputs: [input]})).rejects.toThrow(
      /refusing to overwrite the input/,
    );
    linkSync(input, join(dir, 'link.jsonl'));
    await expect(writeDocs(DOCS, {output: join(dir, 'link.jsonl'), inputs: [input]})).rejects.toThrow(
      /refusing to overwrite/,
    );
    expect(readFileSync(input, 'utf8')).toBe('{"text":"x"}\n');
  });

  it('waits for a slow destination: buffered bytes stay bounded (backpressure)', async () => {
    const slow = new Writable({
      highWaterMark: 1 << 16,
      write(_chunk: Buffer, _enc, done) {
        setImmediate(done);
      },
    });
    let maxBuffered = 0;
    const writer = await DocWriter.open({output: slow});
    const text = 'y'.repeat(1000);
    let waits = 0;
    for (let i = 0; i < 20_000; i++) {
      const wait = writer.write({id: String(i), text, fields: {}});
      maxBuffered = Math.max(maxBuffered, slow.writableLength);
      if (wait) {
        waits++;
        await wait;
      }
    }
    await writer.close();
    expect(writer.rows).toBe(20_000);
    expect(waits).toBeGreaterThan(10);
    // ~20 MB went through; the destination never held more than one flush chunk (256 KiB) at a time.
    expect(maxBuffered).toBeLessThanOrEqual(1 << 19);
  });

  it('writes rows of any length in order, multi-byte characters whole, across buffer and flush edges', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dsk-write-'));
    const output = join(dir, 'out.jsonl');
    // Rows of many sizes (one longer than the 512 KiB buffer) with 2-, 3- and 4-byte characters.
    const texts = [
      'short',
      'é'.repeat(200_000), // longer than the buffer: written on its own
      'x',
      '€😀'.repeat(50_000), // 350 KB: a flush after it
      ...Array.from({length: 1100}, () => 'a'.repeat(200)), // ~247 KB buffered, under the flush size…
      'ß'.repeat(120_000), // …so this one does not fit after them: a flush first
      ...Array.from({length: 3000}, (_, i) => `ü${'a'.repeat(i % 400)}€`),
    ];
    const docs = texts.map((text, i) => ({id: String(i), text, fields: {}}));
    await writeDocs(docs, {output});
    const rows = readFileSync(output, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as {id: string; text: string});
    expect(rows.map((r) => r.text)).toEqual(texts);
    expect(rows.map((r) => r.id)).toEqual(docs.map((d) => d.id));
  });
});
