import {mkdtemp, readFile, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {Readable} from 'node:stream';
import {describe, expect, it} from 'vitest';
import {Balancer, type BalanceStrategy, countLabels} from '../../src/data/balance.js';
import type {Doc} from '../../src/data/doc.js';
import {runBalance} from '../../src/data/run-balance.js';
import {DatasetError} from '../../src/errors.js';

const REUTERS = 'fixtures/reuters/news.jsonl';

/** 70 a, 20 b, 10 c: a skewed little set. */
const SKEWED: Doc[] = [...'a'.repeat(70), ...'b'.repeat(20), ...'c'.repeat(10)].map((label, i) => ({
  id: `r${i}`,
  text: `row ${i}`,
  label,
  fields: {},
}));

async function balance(
  docs: Doc[],
  strategy: BalanceStrategy,
  options: {seed?: number; smoothing?: number} = {},
) {
  const balancer = new Balancer(await countLabels(docs), {strategy, ...options});
  const out: Doc[] = [];
  const dropped: string[] = [];
  for (const doc of docs) {
    const result = balancer.apply(doc);
    if (Array.isArray(result)) out.push(...result);
    else if (!result.keep) dropped.push(result.reason);
  }
  return {out, dropped, report: balancer.report()};
}

const countBy = (docs: Doc[]) => {
  const counts: Record<string, number> = {};
  for (const d of docs) counts[d.label!] = (counts[d.label!] ?? 0) + 1;
  return counts;
};

describe('Balancer', () => {
  it('oversamples every label to exactly the largest count, copies naming their source', async () => {
    const {out, report} = await balance(SKEWED, 'oversample');
    expect(countBy(out)).toEqual({a: 70, b: 70, c: 70});
    const originals = out.filter((d) => !d.id.includes('#'));
    expect(originals.map((d) => d.id)).toEqual(SKEWED.map((d) => d.id));
    for (const copy of out.filter((d) => d.id.includes('#'))) {
      const source = copy.fields.source_id as string;
      expect(copy.id).toMatch(new RegExp(`^${source}#copy\\d+$`));
      expect(copy).toMatchObject({text: SKEWED.find((d) => d.id === source)!.text, label: copy.label});
    }
    // c (10 rows) → 70: each row written exactly 7 times; b (20) → 70: 3 or 4 times.
    const times = (id: string) => out.filter((d) => d.id === id || d.fields.source_id === id).length;
    expect(SKEWED.filter((d) => d.label === 'c').map((d) => times(d.id))).toEqual(Array(10).fill(7));
    expect(new Set(SKEWED.filter((d) => d.label === 'b').map((d) => times(d.id)))).toEqual(new Set([3, 4]));
    expect(report.before.klFromUniform).toBeGreaterThan(0.2);
    expect(report.after).toMatchObject({total: 210, klFromUniform: 0, imbalanceRatio: 1});
  });

  it('undersamples every label to exactly the smallest count, dropping the rest with a reason', async () => {
    const {out, dropped, report} = await balance(SKEWED, 'undersample');
    expect(countBy(out)).toEqual({a: 10, b: 10, c: 10});
    expect(dropped).toEqual(Array(70).fill('undersampled'));
    expect(new Set(out.map((d) => d.id)).size).toBe(30);
    expect(report).toMatchObject({rowsIn: 100, rowsOut: 30});
    expect(report.after.klFromUniform).toBe(0);
  });

  it('draws the same rows for the same seed and others for another', async () => {
    const ids = async (seed: number) => (await balance(SKEWED, 'undersample', {seed})).out.map((d) => d.id);
    expect(await ids(1)).toEqual(await ids(1));
    expect(await ids(2)).not.toEqual(await ids(1));
  });

  it('weights rows by inverse label frequency: N/(K·n) without smoothing, mean weight 1', async () => {
    const {out, report} = await balance(SKEWED, 'weight', {smoothing: 0});
    expect(out).toHaveLength(100);
    const weightOf = (label: string) => out.find((d) => d.label === label)!.weight!;
    expect(weightOf('a')).toBeCloseTo(100 / (3 * 70), 5);
    expect(weightOf('c')).toBeCloseTo(100 / (3 * 10), 5);
    expect(out.reduce((sum, d) => sum + d.weight!, 0) / out.length).toBeCloseTo(1, 4);
    expect(report.after.klFromUniform).toBeLessThan(1e-9);
    expect(report.weights).toEqual({a: weightOf('a'), b: weightOf('b'), c: weightOf('c')});
  });

  it('smoothing pulls the weights towards 1 and keeps their mean at 1', async () => {
    const spread = async (smoothing: number) => {
      const {out, report} = await balance(SKEWED, 'weight', {smoothing});
      expect(out.reduce((sum, d) => sum + d.weight!, 0) / out.length).toBeCloseTo(1, 4);
      return {ratio: report.weights!.c / report.weights!.a, kl: report.after.klFromUniform};
    };
    const [s0, s1, s50] = [await spread(0), await spread(1), await spread(50)];
    expect(s0.ratio).toBeCloseTo(7, 4);
    expect(s1.ratio).toBeCloseTo(71 / 11, 3);
    expect(s50.ratio).toBeLessThan(s1.ratio);
    expect(s50.kl).toBeGreaterThan(s1.kl);
  });

  it('refuses rows without a label, and a second pass that does not match the first', async () => {
    await expect(countLabels([{id: 'x', text: 't', fields: {}}])).rejects.toThrow(DatasetError);
    await expect(countLabels([{id: 'x', text: 't', fields: {}}])).rejects.toThrow(
      /row x has no label.*--label-field/,
    );
    const balancer = new Balancer(new Map([['a', 1]]), {strategy: 'weight'});
    balancer.apply(SKEWED[0]);
    expect(() => balancer.apply(SKEWED[1])).toThrow(/more rows than the first pass/);
  });
});

describe('runBalance', () => {
  it('balances a file in two passes, and a stream the same way via a temporary copy', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'balance-test-'));
    const fromFile = await runBalance({strategy: 'oversample', input: REUTERS, output: join(dir, 'a.jsonl')});
    const fromStream = await runBalance({
      strategy: 'oversample',
      input: Readable.from([await readFile(REUTERS)]),
      output: join(dir, 'b.jsonl'),
    });
    expect(fromFile.spooled).toBe(false);
    expect(fromStream.spooled).toBe(true);
    expect(fromFile.before.counts).toEqual({
      acq: 250,
      earn: 250,
      crude: 125,
      interest: 125,
      'money-fx': 125,
      trade: 125,
    });
    expect(Object.values(fromFile.after.counts)).toEqual(Array(6).fill(250));
    const rows = (await readFile(join(dir, 'a.jsonl'), 'utf8')).trim().split('\n');
    expect(rows).toHaveLength(1500);
    expect(await readFile(join(dir, 'b.jsonl'), 'utf8')).toBe(`${rows.join('\n')}\n`);
    expect(fromFile.io).toMatchObject({read: 1000, written: 1500});
  });

  it('skips a malformed row in both passes, counting it once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'balance-test-'));
    const input = join(dir, 'in.jsonl');
    await writeFile(
      input,
      '{"text":"a","label":"x"}\n{"text": oops\n{"text":"b","label":"y"}\n{"text":"c","label":"y"}\n',
    );
    const report = await runBalance({
      strategy: 'undersample',
      input,
      output: join(dir, 'out.jsonl'),
      onError: 'skip',
    });
    expect(report.io.skipped).toBe(1);
    expect(report.io.skippedErrors[0]).toMatch(/line 2: invalid JSON/);
    expect(report.after.counts).toEqual({x: 1, y: 1});
  });
});
