import {mkdtemp, readFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {beforeAll, describe, expect, it} from 'vitest';
import {runCli} from '../helpers/cli.js';

let sample: string; // the first 40 IMDB reviews as JSONL
beforeAll(async () => {
  const lines = (await readFile('fixtures/imdb/reviews.jsonl', 'utf8')).split('\n');
  sample = `${lines.slice(0, 40).join('\n')}\n`;
});

const parse = (jsonl: string) =>
  jsonl
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));

describe('deepseek-kit augment', () => {
  it('works in a pipe: rows to stdout, the summary to stderr, the same rows for the same seed', () => {
    const r = runCli(['augment', '--num-aug', '2'], {input: sample});
    expect(r.code).toBe(0);
    const rows = parse(r.stdout);
    expect(rows).toHaveLength(120);
    expect(rows.filter((row) => row.augmented)).toHaveLength(80);
    for (const row of rows.filter((x) => x.augmented)) {
      const source = rows.find((x) => x.id === row.source_id);
      expect(row.id).toMatch(new RegExp(`^${source.id}#aug[12]$`));
      expect(row.label).toBe(source.label);
    }
    expect(r.stderr).toMatch(
      /augment: 40 rows in → 120 out \(80 new: sr \d+ · ri \d+ · rs \d+ · rd \d+ · typo \d+\)/,
    );
    expect(runCli(['augment', '--num-aug', '2'], {input: sample}).stdout).toBe(r.stdout);
    expect(runCli(['augment', '--num-aug', '2', '--seed', '1'], {input: sample}).stdout).not.toBe(r.stdout);
  });

  it('--json reports to stdout when the rows go to --out; CSV keeps the new columns', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'augment-cli-'));
    const out = join(dir, 'aug.csv');
    const r = runCli(
      ['augment', '--format', 'jsonl', '--out', out, '--ops', 'rs,typo', '--no-keep-original', '--json'],
      {
        input: sample,
      },
    );
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({
      rows_in: 40,
      rows_out: 160,
      by_op: {sr: 0, ri: 0, rs: 80, rd: 0, typo: 80},
    });
    const csv = await readFile(out, 'utf8');
    expect(csv.split('\n')[0]).toBe('id,text,label,augmented,source_id,augment_op');
  });

  it('refuses bad options with exit 1 and a fix', () => {
    const noOut = runCli(['augment', '--json'], {input: sample});
    expect(noOut.code).toBe(1);
    expect(JSON.parse(noOut.stdout).error).toEqual({
      code: 'input',
      message: '--json prints the report on stdout, which carries the data without --out',
      hint: 'add --out FILE',
    }); // --json: errors as JSON, the hint apart
    const ops = runCli(['augment', '--ops', 'sr,shuffle'], {input: sample});
    expect(ops.code).toBe(1);
    expect(ops.stderr).toMatch(/unknown op shuffle.*sr,ri,rs,rd,typo/);
    expect(runCli(['augment', '--alpha', '1.5'], {input: sample}).code).toBe(1);
  });
});
