import {mkdtempSync, readFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it, vi} from 'vitest';
import {runCli} from '../helpers/cli.js';

// Several CLI starts per test (clean --workers starts one process per stage and shard).
vi.setConfig({testTimeout: 240_000});
const dir = mkdtempSync(join(tmpdir(), 'dsk-clean-workers-'));
const rows = (text: string) => text.split('\n').filter(Boolean);

describe('sharded data commands', () => {
  it('--shard i/n: the shards of stats partition the rows; a bad spec is a usage error', () => {
    const total = [0, 1, 2].map((i) => {
      const r = runCli(['stats', '--in', 'fixtures/imdb/reviews.jsonl', '--shard', `${i}/3`, '--json']);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout).rows as number;
    });
    expect(total.reduce((a, b) => a + b, 0)).toBe(2000);
    expect(total[0]).toBe(667);
    const bad = runCli(['stats', '--in', 'fixtures/imdb/reviews.jsonl', '--shard', '3/3']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--shard 3\/3: expected i\/n with 0 <= i < n/);
  });

  it('clean --workers 2 writes the file single-process clean writes; clean stage runs one stage', () => {
    const one = join(dir, 'one.jsonl');
    const two = join(dir, 'two.jsonl');
    expect(runCli(['clean', '--in', 'fixtures/imdb/reviews.jsonl', '--out', one]).code).toBe(0);
    const r = runCli([
      'clean',
      '--in',
      'fixtures/imdb/reviews.jsonl',
      '--out',
      two,
      '--workers',
      '2',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({rows_in: 2000, rows_out: 1968, workers: 2});
    expect(report.dropped).toEqual({exact_duplicate: 25, near_duplicate: 7});
    expect(readFileSync(two, 'utf8')).toBe(readFileSync(one, 'utf8'));
    expect(rows(readFileSync(two, 'utf8'))).toHaveLength(1968);

    const work = join(dir, 'work');
    const early = runCli(['clean', 'stage', 'exact', '--work', work, '--shard', '0/2']);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/no plan/);
    const plan = runCli([
      'clean',
      'stage',
      'plan',
      '--in',
      'fixtures/imdb/reviews.jsonl',
      '--work',
      work,
      '--shard',
      '0/2',
    ]);
    expect(plan.code, plan.stderr).toBe(0);
    const notSigned = runCli(['clean', 'stage', 'exact', '--work', work, '--shard', '0/2']);
    expect(notSigned.code).toBe(1);
    expect(notSigned.stderr).toMatch(/shard 0 has not been signed/);
    const sign = runCli(['clean', 'stage', 'sign', '--work', work, '--shard', '1/2', '--json']);
    expect(sign.code, sign.stderr).toBe(0);
    // Shard 1 of 2 is the second half of the file's bytes (whole lines): its rows, and only those.
    const half = JSON.parse(readFileSync(join(work, 'plan.json'), 'utf8')).ranges[1];
    expect(half.firstLine).toBeGreaterThan(900);
    expect(half.firstLine).toBeLessThan(1100);
    expect(JSON.parse(sign.stdout)).toMatchObject({stage: 'sign', part: 1, ran: true, records: half.lines});
    const again = runCli(['clean', 'stage', 'sign', '--work', work, '--shard', '1/2', '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ran: false});
  });
});
