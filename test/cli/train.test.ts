import {mkdtemp, readFile, rm, stat, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {MODEL_KINDS} from '../../src/models/registry.js';
import {runCli} from '../helpers/cli.js';

let dir: string;
/** oclif wraps error messages and prefixes each line with › */
const oneLine = (stderr: string) => stderr.replace(/\s*\n\s*›\s*/g, ' ');
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dsk-cli-train-'));
});
afterAll(() => rm(dir, {recursive: true, force: true}));

describe('deepseek-kit train / evaluate / predict', () => {
  it('trains a tiny classifier, scores it with --json and labels new rows', async () => {
    const out = join(dir, 'imdb');
    const trained = runCli([
      'train',
      '--data',
      'fixtures/imdb/reviews.jsonl',
      '--out',
      out,
      '--preset',
      'tiny',
      '--steps',
      '12',
      '--json',
    ]);
    expect(trained.code, trained.stderr).toBe(0);
    expect(JSON.parse(trained.stdout)).toMatchObject({
      task: 'classify',
      steps: 12,
      train_examples: 1783,
      val_examples: 217,
    });
    expect(trained.stderr).toMatch(/tokenizer: wordpiece, 2000 ids/);

    const scored = runCli(['evaluate', '--model', out, '--data', 'fixtures/imdb/test.jsonl', '--json']);
    expect(scored.code, scored.stderr).toBe(0);
    const metrics = JSON.parse(scored.stdout);
    expect(metrics.examples).toBe(1000);
    expect(metrics.labels).toEqual(['neg', 'pos']);
    expect(metrics.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(1000);
    expect(metrics.accuracy).toBeGreaterThan(0);
    expect(Object.keys(metrics.per_class)).toEqual(['neg', 'pos']);
    const human = runCli(['evaluate', '--model', out, '--data', 'fixtures/imdb/test.jsonl']);
    expect(human.stdout).toMatch(/^examples 1000 {2}accuracy 0\.\d{4} {2}macro_f1 0\.\d{4}$/m);

    const input =
      '{"id":"a","text":"A wonderful, moving film.","label":"pos"}\n{"id":"b","text":"Dull and far too long."}\n';
    const predicted = runCli(['predict', '--model', out], {input});
    expect(predicted.code, predicted.stderr).toBe(0);
    const rows = predicted.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.map((r) => r.id)).toEqual(['a', 'b']);
    expect(rows[0].input_label).toBe('pos');
    for (const row of rows) {
      expect(['neg', 'pos']).toContain(row.label);
      expect(row.probabilities.neg + row.probabilities.pos).toBeCloseTo(1, 4);
      expect(row.label).toBe(row.probabilities.pos > row.probabilities.neg ? 'pos' : 'neg');
    }
  }, 120_000);

  it('--help lists every preset of every kind, one line each', () => {
    const r = runCli(['train', '--help']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n').map((l) => l.trim());
    for (const kind of MODEL_KINDS) {
      expect(lines).toContain(`${kind.id} (${kind.trainFlags}):`);
      for (const [name, summary] of Object.entries(kind.presets))
        expect(lines).toContain(`${name} — ${summary}`);
    }
  });

  it('exits 1 naming the problem: occupied output, bad rows, not a run', async () => {
    const out = join(dir, 'imdb');
    const again = runCli([
      'train',
      '--data',
      'fixtures/imdb/reviews.jsonl',
      '--out',
      out,
      '--preset',
      'tiny',
      '--steps',
      '2',
    ]);
    expect(again.code).toBe(1);
    expect(oneLine(again.stderr)).toMatch(/already holds another run — pass --resume/);

    const bad = join(dir, 'bad.jsonl');
    await writeFile(bad, '{"text":"good","label":"pos"}\n{"text":"bad"}\n');
    const badRun = runCli(['train', '--data', bad, '--out', join(dir, 'never')]);
    expect(badRun.code).toBe(1);
    expect(oneLine(badRun.stderr)).toMatch(/bad\.jsonl row 2 .*no "label" field/);
    await expect(stat(join(dir, 'never'))).rejects.toThrow();

    const lm = runCli(['evaluate', '--model', join(dir, 'nothing'), '--data', bad]);
    expect(lm.code).toBe(1);
    expect(oneLine(lm.stderr)).toMatch(/no run folder at/);
    expect(JSON.parse(await readFile(join(out, 'config.json'), 'utf8')).task).toBe('classify');
  });
});
