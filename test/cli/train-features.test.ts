import {mkdtemp, readFile, rm, stat, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {runCli} from '../helpers/cli.js';

let dir: string;
/** oclif wraps error messages and prefixes each line with › */
const oneLine = (stderr: string) => stderr.replace(/\s*\n\s*›\s*/g, ' ');
const FEATURES = 'sepal_length,sepal_width,petal_length,petal_width';
const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dsk-cli-features-'));
});
afterAll(() => rm(dir, {recursive: true, force: true}));

describe('deepseek-kit train --features / evaluate / predict', () => {
  it('trains on iris columns, evaluates with --json and predicts CSV and JSONL rows', async () => {
    const out = join(dir, 'iris');
    const trained = runCli([
      'train',
      '--task',
      'classify',
      '--data',
      'fixtures/tabular/iris.csv',
      '--features',
      FEATURES,
      '--label-field',
      'species',
      '--out',
      out,
      '--epochs',
      '30',
      '--batch-size',
      '16',
      '--lr',
      '1e-2',
      '--class-weights',
      'balanced',
      '--json',
    ]);
    expect(trained.code, trained.stderr).toBe(0);
    const report = JSON.parse(trained.stdout);
    expect(report).toMatchObject({task: 'classify', epochs: 30});
    expect(report.train_examples + report.val_examples).toBe(150);
    const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
    expect(config.features.columns).toEqual(FEATURES.split(','));
    expect(config.data.classWeights).toBe('balanced');
    expect(await exists(join(out, 'tokenizer.json'))).toBe(false);

    const scored = runCli(['evaluate', '--model', out, '--data', 'fixtures/tabular/iris.csv', '--json']);
    expect(scored.code, scored.stderr).toBe(0);
    const metrics = JSON.parse(scored.stdout);
    expect(metrics.examples).toBe(150);
    expect(metrics.accuracy).toBeGreaterThan(0.9);

    const rows = [
      {sepal_length: 5.0, sepal_width: 3.4, petal_length: 1.5, petal_width: 0.2},
      {sepal_length: 6.9, sepal_width: 3.1, petal_length: 5.8, petal_width: 2.3, species: 'virginica'},
    ];
    const predicted = runCli(['predict', '--model', out], {
      input: rows.map((r) => JSON.stringify(r)).join('\n'),
    });
    expect(predicted.code, predicted.stderr).toBe(0);
    const lines = predicted.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.label)).toEqual(['setosa', 'virginica']);
    expect(lines[1].input_label).toBe('virginica');
    const p = lines[0].probabilities;
    expect(p.setosa + p.versicolor + p.virginica).toBeCloseTo(1, 4);

    const csvOut = join(dir, 'pred.csv');
    const toCsv = runCli(['predict', '--model', out, '--in', 'fixtures/tabular/iris.csv', '--out', csvOut]);
    expect(toCsv.code, toCsv.stderr).toBe(0);
    const csv = (await readFile(csvOut, 'utf8')).trim().split('\n');
    expect(csv).toHaveLength(151);
    expect(csv[0]).toBe(`input_label,${FEATURES},label,probabilities`);
  }, 90_000);

  it('bad input exits 1 with the file, row and column, and leaves no run folder', async () => {
    const bad = join(dir, 'bad.csv');
    await writeFile(bad, `${FEATURES},species\n5.1,3.5,1.4,0.2,setosa\n4.9,,1.4,0.2,setosa\n`);
    const out = join(dir, 'bad-run');
    const cases: [string[], RegExp][] = [
      [
        ['--data', bad, '--features', FEATURES],
        /bad\.csv row 2 \(line 3\) column "sepal_width" is "", not a number/,
      ],
      [['--data', 'fixtures/tabular/iris.csv', '--features', 'sepal_length,petal'], /has no "petal" column/],
      [
        ['--data', 'fixtures/tabular/iris.csv', '--features', 'sepal_length,,petal_width'],
        /empty column name/,
      ],
      [
        ['--data', 'fixtures/tabular/iris.csv', '--features', FEATURES, '--max-len', '8'],
        /--max-len is for text classifiers/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = runCli(['train', '--label-field', 'species', '--out', out, ...args]);
      expect(r.code, r.stderr).toBe(1);
      expect(oneLine(r.stderr)).toMatch(message);
      expect(await exists(out)).toBe(false);
    }
    // --on-error skip: the bad row is left out with a warning; the one good row is a single class.
    const skip = runCli([
      'train',
      '--label-field',
      'species',
      '--out',
      out,
      '--data',
      bad,
      '--features',
      FEATURES,
      '--on-error',
      'skip',
    ]);
    expect(skip.code).toBe(1);
    expect(oneLine(skip.stderr)).toMatch(/warning: skipped .*bad\.csv row 2 \(line 3\) column "sepal_width"/);
    expect(oneLine(skip.stderr)).toMatch(/every row has the label "setosa"/);
  }, 60_000);
});
