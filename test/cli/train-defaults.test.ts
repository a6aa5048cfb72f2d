import {existsSync} from 'node:fs';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {runCli} from '../helpers/cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dsk-cli-defaults-'));
});
afterAll(() => rm(dir, {recursive: true, force: true}));

describe('train with no preset, evaluate --baseline --html', () => {
  it('says what it chose and why, and the report compares it with the baseline', () => {
    const out = join(dir, 'reuters');
    const trained = runCli(['train', '--data', 'fixtures/reuters/news.jsonl', '--out', out, '--steps', '20']);
    expect(trained.code, trained.stderr).toBe(0);
    expect(trained.stderr).toMatch(
      /^chose fasttext \(\d{3} rows, 6 classes, median \d+ words\): .*early stopping/m,
    );

    const html = join(dir, 'report.html');
    const scored = runCli([
      'evaluate',
      '--model',
      out,
      '--data',
      'fixtures/reuters/news.jsonl',
      '--baseline',
      '--html',
      html,
      '--json',
    ]);
    expect(scored.code, scored.stderr).toBe(0);
    const report = JSON.parse(scored.stdout);
    expect(report.baseline).toMatchObject({baseline: 'tfidf-logreg', train_examples: 1000, examples: 1000});
    expect(report.baseline.accuracy).toBeGreaterThan(0.9);
    expect(report.html).toBe(html);
    expect(existsSync(html)).toBe(true);
    const human = runCli(['evaluate', '--model', out, '--data', 'fixtures/reuters/news.jsonl', '--baseline']);
    expect(human.stdout).toMatch(/^model vs baseline: accuracy [+-]\d+\.\d points/m);
  }, 180_000);

  it('--budget is a duration, and searches presets itself', () => {
    const bad = runCli([
      'train',
      '--data',
      'fixtures/reuters/news.jsonl',
      '--out',
      join(dir, 'x'),
      '--budget',
      'soon',
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--budget "soon" is not a duration/);
    const both = runCli([
      'train',
      '--data',
      'fixtures/reuters/news.jsonl',
      '--out',
      join(dir, 'y'),
      '--budget',
      '1m',
      '--preset',
      'bag',
    ]);
    expect(both.code).not.toBe(0);
    expect(both.stderr).toMatch(
      /--preset.*cannot also be provided when using --budget|--budget.*cannot also be provided/s,
    );
  });
});
