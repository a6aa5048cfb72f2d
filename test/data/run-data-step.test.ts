import {existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {PassThrough, Readable} from 'node:stream';
import {describe, expect, it} from 'vitest';
import {drop, KEEP} from '../../src/data/doc.js';
import {runDataStep} from '../../src/data/run-data-step.js';
import {DatasetError} from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'dsk-run-'));
const lines = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean);

describe('runDataStep', () => {
  it('counts drops per reason and writes every dropped row with its reason', async () => {
    const out = join(dir, 'kept.jsonl');
    const rejected = join(dir, 'rejected.jsonl');
    const stats = await runDataStep(
      (doc) => (doc.text.length < 400 ? drop('short', `${doc.text.length} chars`) : KEEP),
      {
        input: 'fixtures/imdb/reviews.jsonl',
        output: out,
        rejected,
      },
    );
    const short = lines(rejected).map((l) => JSON.parse(l));
    expect(stats.read).toBe(2000);
    expect(stats.written + short.length).toBe(2000);
    expect(stats.dropped).toEqual({short: short.length});
    expect(lines(out)).toHaveLength(stats.written);
    expect(short[0]).toMatchObject({drop_reason: 'short', drop_detail: expect.stringMatching(/^\d+ chars$/)});
    expect(short[0].id).toMatch(/^imdb-\d+$/);
    expect(stats).toMatchObject({inFormat: 'jsonl', outFormat: 'jsonl', skipped: 0});
  });

  it('a step may emit several rows per input, and more at the end', async () => {
    const output = new PassThrough();
    const chunks: Buffer[] = [];
    output.on('data', (c: Buffer) => chunks.push(c));
    const stats = await runDataStep(
      {
        apply: (doc) => [doc, {...doc, id: `${doc.id}#copy`}],
        finish: () => [{id: 'tail', text: 'the end', fields: {}}],
      },
      {input: Readable.from(['{"text":"a"}\n{"text":"b"}\n']), output},
    );
    expect(stats).toMatchObject({read: 2, written: 5});
    expect(
      Buffer.concat(chunks)
        .toString()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).id),
    ).toEqual(['stdin:1', 'stdin:1#copy', 'stdin:2', 'stdin:2#copy', 'tail']);
  });

  it('--on-error fail: the error names file and line; no output or rejects file appears', async () => {
    const input = join(dir, 'broken.jsonl');
    writeFileSync(input, `${'{"text":"fine"}\n'.repeat(5000)}{"text": oops}\n`);
    const out = join(dir, 'never.jsonl');
    const rejected = join(dir, 'never-rejected.jsonl');
    const error = await runDataStep(() => KEEP, {input, output: out, rejected}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatasetError);
    expect((error as Error).message).toMatch(/broken\.jsonl line 5001: invalid JSON/);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(rejected)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('--on-error skip: counts each malformed row and keeps its message', async () => {
    const input = join(dir, 'some-bad.jsonl');
    writeFileSync(input, '{"text":"a"}\nnot json\n{"text":"b"}\n{"nope":1}\n');
    const seen: string[] = [];
    const stats = await runDataStep(() => KEEP, {
      input,
      output: join(dir, 'skip.jsonl'),
      onError: 'skip',
      onSkip: (e) => seen.push(e.message),
    });
    expect(stats).toMatchObject({read: 2, written: 2, skipped: 2});
    expect(stats.skippedErrors).toEqual(seen);
    expect(seen[0]).toMatch(/line 2/);
    expect(seen[1]).toMatch(/line 4/);
  });

  it('converts formats: CSV in, JSONL out by the output extension', async () => {
    const input = join(dir, 'in.csv');
    writeFileSync(input, 'text,label\n"a, b",pos\n');
    const stats = await runDataStep(() => KEEP, {input, output: join(dir, 'from-csv.jsonl')});
    expect(stats).toMatchObject({inFormat: 'csv', outFormat: 'jsonl'});
    expect(JSON.parse(lines(join(dir, 'from-csv.jsonl'))[0]!)).toEqual({
      id: 'in.csv:2',
      text: 'a, b',
      label: 'pos',
    });
  });

  it('refuses rejects onto the output, and output onto the input', async () => {
    const input = join(dir, 'same.jsonl');
    writeFileSync(input, '{"text":"a"}\n');
    await expect(runDataStep(() => KEEP, {input, output: input})).rejects.toThrow(
      /refusing to overwrite the input/,
    );
    const out = join(dir, 'o.jsonl');
    await expect(runDataStep(() => KEEP, {input, output: out, rejected: out})).rejects.toThrow(/refusing/);
    expect(readFileSync(input, 'utf8')).toBe('{"text":"a"}\n');
  });
});
