import {existsSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {runCli} from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'dsk-clean-cli-'));
const reviews = readFileSync('fixtures/imdb/reviews.jsonl', 'utf8');
const rows = (text: string) =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('deepseek-kit clean', () => {
  it('works in a pipe: JSONL on stdin, cleaned JSONL on stdout, a summary on stderr', () => {
    const r = runCli(['clean'], {input: reviews});
    expect(r.code).toBe(0);
    const out = rows(r.stdout);
    expect(out).toHaveLength(2000 - 32);
    expect(Object.keys(out[0]!)).toEqual(['id', 'text', 'label']);
    expect(r.stderr).toMatch(/clean: 2000 rows in, 1968 out \(stdin → stdout\)/);
    expect(r.stderr).toMatch(/exact_duplicate 25, near_duplicate 7/);
  });

  it('--out, --report, --rejected and --json: the report on stdout, files written', () => {
    const out = join(dir, 'clean.jsonl');
    const report = join(dir, 'report.json');
    const rejected = join(dir, 'rejected.jsonl');
    const r = runCli([
      'clean',
      '--in',
      'fixtures/imdb/reviews.jsonl',
      '--out',
      out,
      '--report',
      report,
      '--rejected',
      rejected,
      '--json',
    ]);
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.stdout);
    expect(printed).toEqual(JSON.parse(readFileSync(report, 'utf8')));
    expect(printed).toMatchObject({
      rows_in: 2000,
      rows_out: 1968,
      dropped: {exact_duplicate: 25, near_duplicate: 7},
      dedup: {mode: 'both', exact: {removed: 25, clusters: 24}, near: {removed: 7, bands: 20, rows: 6}},
      filters: {preset: 'default'},
    });
    expect(rows(readFileSync(out, 'utf8'))).toHaveLength(1968);
    const dropped = rows(readFileSync(rejected, 'utf8'));
    expect(dropped).toHaveLength(32);
    expect(dropped.every((d) => typeof d.drop_detail === 'string' && /^imdb-\d+$/.test(d.drop_detail))).toBe(
      true,
    );
  });

  it('--strip-html and --filters web change what is kept; --dedup none keeps duplicates', () => {
    const html = runCli(['clean', '--strip-html', '--dedup', 'none', '--filters', 'none'], {input: reviews});
    expect(html.code).toBe(0);
    expect(html.stdout).not.toMatch(/<br \/>/);
    expect(rows(html.stdout)).toHaveLength(2000);
    const web = runCli([
      'clean',
      '--filters',
      'web',
      '--dedup',
      'none',
      '--json',
      '--in',
      'fixtures/imdb/reviews.jsonl',
      '--out',
      join(dir, 'web.jsonl'),
    ]);
    expect(web.code).toBe(0);
    const report = JSON.parse(web.stdout);
    expect(report.rows_out).toBeLessThan(2000);
    expect(Object.keys(report.dropped)).toContain('too_few_sentences');
  });

  it('--json without --out is a usage error: stdout carries the data', () => {
    const r = runCli(['clean', '--in', 'fixtures/imdb/reviews.jsonl', '--json']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/add --out FILE/);
  });

  it('malformed input: exit 1 naming file and line, no output file; --on-error skip counts it', () => {
    const input = join(dir, 'broken.jsonl');
    writeFileSync(input, `${reviews.split('\n').slice(0, 10).join('\n')}\n{"text": "cut\n`);
    const out = join(dir, 'broken-out.jsonl');
    const fail = runCli(['clean', '--in', input, '--out', out]);
    expect(fail.code).toBe(1);
    expect(fail.stderr).toMatch(/broken\.jsonl line 11: invalid JSON/);
    expect(existsSync(out)).toBe(false);
    const skip = runCli(['clean', '--in', input, '--out', out, '--on-error', 'skip', '--json']);
    expect(skip.code).toBe(0);
    expect(JSON.parse(skip.stdout)).toMatchObject({
      rows_in: 10,
      skipped: 1,
      skipped_errors: [expect.stringMatching(/line 11/)],
    });
    expect(skip.stderr).toMatch(/skipped: .*line 11/);
  });

  it('refuses to overwrite its input; bad flags and filter files exit 1', () => {
    const input = join(dir, 'input.jsonl');
    writeFileSync(input, reviews);
    const r = runCli(['clean', '--in', input, '--out', input]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refusing to overwrite the input/);
    expect(readFileSync(input, 'utf8')).toBe(reviews);
    expect(runCli(['clean', '--near-threshold', '1.5'], {input: reviews}).code).toBe(1);
    expect(runCli(['clean', '--dedup', 'fuzzy'], {input: reviews}).code).toBe(1);
    const filters = join(dir, 'filters.yaml');
    writeFileSync(filters, 'rules:\n  gopher_quality:\n    min_word: 3\n');
    const bad = runCli(['clean', '--filters', filters], {input: reviews});
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/unknown key "min_word"/);
  });

  it('reads CSV and writes CSV back, keeping the columns', () => {
    const input = join(dir, 'reviews.csv');
    writeFileSync(
      input,
      'text,label,source\n"Great film, loved it.",pos,a\n"Great film, loved it.",pos,b\n"\u0000\u0001\u0002\u0003",neg,c\n',
    );
    const r = runCli(['clean', '--in', input]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('id,text,label,source\nreviews.csv:2,"Great film, loved it.",pos,a\n');
    expect(r.stderr).toMatch(/exact_duplicate 1, non_text 1/);
  });
});
