import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {DatasetError} from '../../../src/errors.js';
import {featureHoldout, readFeatureRows} from '../../../src/models/feature-classifier/feature-data.js';

let dir: string;
const file = async (name: string, content: string) => {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
};
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dsk-features-'));
});
afterAll(() => rm(dir, {recursive: true, force: true}));

const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];

describe('readFeatureRows', () => {
  it('reads the iris fixture: 150 rows × 4 columns in the order asked', async () => {
    const rows = await readFeatureRows('fixtures/tabular/iris.csv', {
      features: ['petal_width', 'sepal_length'],
      labelField: 'species',
    });
    expect(rows.n).toBe(150);
    expect(Array.from(rows.x.subarray(0, 2))).toEqual([Math.fround(0.2), Math.fround(5.1)]);
    expect(rows.labels[0]).toBe('setosa');
    expect(new Set(rows.labels)).toEqual(new Set(['setosa', 'versicolor', 'virginica']));
    expect(Array.from(rows.weights).every((w) => w === 1)).toBe(true);
  });

  it('reads the same numbers from CSV, TSV and JSONL (numbers or numeric strings), with weights', async () => {
    const csv = await file('a.csv', 'a,b,y,weight\n1,2.5,p,2\n-3,1e-2,q,\n');
    const tsv = await file('a.tsv', 'a\tb\ty\tweight\n1\t2.5\tp\t2\n-3\t1e-2\tq\t\n');
    const jsonl = await file(
      'a.jsonl',
      '{"a":1,"b":"2.5","y":"p","weight":2}\n\n{"a":-3,"b":0.01,"y":"q"}\n',
    );
    for (const path of [csv, tsv, jsonl]) {
      const rows = await readFeatureRows(path, {features: ['a', 'b'], labelField: 'y'});
      expect(Array.from(rows.x)).toEqual([1, 2.5, -3, Math.fround(0.01)]);
      expect(rows.labels).toEqual(['p', 'q']);
      expect(Array.from(rows.weights)).toEqual([2, 1]);
    }
  });

  it('names file, row, line and column of a missing or non-numeric cell', async () => {
    const cases: [string, string, RegExp][] = [
      ['empty.csv', 'a,b,y\n1,2,p\n3,,q\n', /empty\.csv row 2 \(line 3\) column "b" is "", not a number/],
      ['text.csv', 'a,b,y\n1,two,p\n', /text\.csv row 1 \(line 2\) column "b" is "two", not a number/],
      ['nan.jsonl', '{"a":1,"b":null,"y":"p"}\n', /nan\.jsonl row 1 \(line 1\) column "b" is null/],
      [
        'absent.jsonl',
        '{"a":1,"y":"p"}\n',
        /absent\.jsonl row 1 \(line 1\) has no "b" column \(columns: a, y\)/,
      ],
      ['nolabel.csv', 'a,b,y\n1,2,\n', /nolabel\.csv row 1 \(line 2\): no "y" value/],
      ['badweight.csv', 'a,b,y,weight\n1,2,p,-1\n', /"weight" is "-1", expected a number ≥ 0/],
      ['ragged.csv', 'a,b,y\n1,2,p,9\n', /ragged\.csv line 2/],
      ['none.csv', 'a,b,y\n', /none\.csv: no rows/],
    ];
    for (const [name, content, message] of cases) {
      const path = await file(name, content);
      const error = await readFeatureRows(path, {features: ['a', 'b'], labelField: 'y'}).catch((e) => e);
      expect(error, name).toBeInstanceOf(DatasetError);
      expect(String(error.message), name).toMatch(message);
    }
    await expect(readFeatureRows(join(dir, 'missing.csv'), {features: ['a']})).rejects.toThrow(
      /no such file/,
    );
    await expect(readFeatureRows('fixtures/text/moby-dick.txt', {features: ['a']})).rejects.toThrow(
      /no columns/,
    );
  });

  it('--on-error skip leaves out bad rows and reports each one', async () => {
    const path = await file('mixed.csv', 'a,b,y\n1,2,p\nx,2,p\n3,4,q\n5,,q\n');
    const skipped: string[] = [];
    const rows = await readFeatureRows(path, {
      features: ['a', 'b'],
      labelField: 'y',
      onError: 'skip',
      onSkip: (e) => skipped.push(e.message),
    });
    expect(Array.from(rows.x)).toEqual([1, 2, 3, 4]);
    expect(rows.labels).toEqual(['p', 'q']);
    expect(skipped).toHaveLength(2);
    expect(skipped[0]).toMatch(/row 2 \(line 3\) column "a"/);
  });
});

describe('featureHoldout', () => {
  it('is deterministic, independent of row order, and keeps every class in training', async () => {
    const rows = await readFeatureRows('fixtures/tabular/iris.csv', {
      features: FEATURES,
      labelField: 'species',
    });
    const {train, val} = featureHoldout(rows);
    expect(train.n + val.n).toBe(150);
    expect(val.n).toBeGreaterThan(5);
    expect(val.n).toBeLessThan(30);
    const order = Array.from({length: 150}, (_, i) => 149 - i);
    const reversed = {
      ...rows,
      x: Float32Array.from(order.flatMap((i) => Array.from(rows.x.subarray(i * 4, i * 4 + 4)))),
      labels: order.map((i) => rows.labels[i]!),
      weights: Float32Array.from(order, (i) => rows.weights[i]!),
    };
    const again = featureHoldout(reversed);
    const key = (r: typeof val) =>
      Array.from(
        {length: r.n},
        (_, i) => `${Array.from(r.x.subarray(i * 4, i * 4 + 4))}|${r.labels[i]}`,
      ).sort();
    expect(key(again.val)).toEqual(key(val));
    expect(new Set(train.labels).size).toBe(3);
  });
});
