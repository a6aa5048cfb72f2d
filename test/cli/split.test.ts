import {mkdtemp, readdir, readFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {runCli} from '../helpers/cli.js';

describe('deepseek-kit split', () => {
  it('writes one file per split, from stdin or a file, the same rows each time', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'split-cli-'));
    const input = await readFile('fixtures/imdb/reviews.jsonl', 'utf8');
    const a = runCli(['split', '--out-dir', join(dir, 'a'), '--ratios', '0.9,0.1'], {input});
    expect(a.code).toBe(0);
    expect(a.stderr).toMatch(/split: 2000 rows/);
    expect(a.stderr).toMatch(/train +\d+ \(\d+\.\d%\)/);
    const b = runCli([
      'split',
      '--in',
      'fixtures/imdb/reviews.jsonl',
      '--out-dir',
      join(dir, 'b'),
      '--ratios',
      '0.9,0.1',
      '--json',
    ]);
    expect(b.code).toBe(0);
    const report = JSON.parse(b.stdout);
    expect(report.names).toEqual(['train', 'test']);
    expect(report.counts.train + report.counts.test).toBe(2000);
    expect(await readdir(join(dir, 'a'))).toEqual(['test.jsonl', 'train.jsonl']);
    for (const name of ['train', 'test']) {
      expect(await readFile(join(dir, 'a', `${name}.jsonl`), 'utf8')).toBe(
        await readFile(report.files[name], 'utf8'),
      );
    }
  });

  it('needs --out-dir, and one name per ratio', () => {
    expect(runCli(['split', '--in', 'fixtures/imdb/reviews.jsonl']).code).toBe(1);
    const r = runCli([
      'split',
      '--in',
      'fixtures/imdb/reviews.jsonl',
      '--out-dir',
      tmpdir(),
      '--names',
      'a,b',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/3 ratios need 3 distinct names/);
  });
});
