import {readFile} from 'node:fs/promises';
import {describe, expect, it} from 'vitest';
import {runCli} from '../helpers/cli.js';

describe('deepseek-kit stats', () => {
  it('prints a report for a file, and JSON for stdin', async () => {
    const human = runCli(['stats', '--in', 'fixtures/reuters/news.jsonl']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^rows +1000$/m);
    expect(human.stdout).toMatch(/^labels +acq 250 \(25\.0%\) · earn 250/m);
    expect(human.stdout).toMatch(/^chars +min \d+ · p5 \d+ · p50 \d+ · p95 \d+ · max \d+/m);
    const json = runCli(['stats', '--json'], {input: await readFile('fixtures/imdb/reviews.jsonl', 'utf8')});
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({rows: 2000, duplicates: {exact: 25}, scripts: {rows: {Latin: 2000}}});
  });

  it('names the line of a malformed row, or skips it on request', () => {
    const input = '{"text":"fine"}\n{"text": broken\n';
    const failed = runCli(['stats'], {input});
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/stdin line 2: invalid JSON/);
    const skipped = runCli(['stats', '--on-error', 'skip', '--json'], {input});
    expect(skipped.code).toBe(0);
    expect(JSON.parse(skipped.stdout)).toMatchObject({rows: 1, skipped: 1});
  });
});
