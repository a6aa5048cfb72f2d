import {existsSync} from 'node:fs';
import {mkdtemp, readdir, readFile, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {beforeAll, describe, expect, it} from 'vitest';
import {augmentDocs} from '../../src/data/augment.js';
import {normalizeText} from '../../src/data/dedup/normalize.js';
import type {Doc} from '../../src/data/doc.js';
import {readDocs} from '../../src/data/io/read-docs.js';
import {runSplit} from '../../src/data/run-split.js';
import {type SplitOptions, Splitter} from '../../src/data/split.js';
import {ConfigError, DatasetError} from '../../src/errors.js';

let imdb: Doc[];
beforeAll(async () => {
  imdb = [];
  for await (const doc of readDocs({input: 'fixtures/imdb/reviews.jsonl'})) imdb.push(doc);
});

const all = async (docs: AsyncIterable<Doc>) => {
  const out: Doc[] = [];
  for await (const doc of docs) out.push(doc);
  return out;
};

const assign = (docs: Doc[], options: SplitOptions) => {
  const splitter = new Splitter(options);
  return {splits: docs.map((d) => splitter.assign(d)), report: splitter.report()};
};

/** The fixture plus copies that differ only in case and spacing from rows already in it. */
const withVariants = (docs: Doc[]) => [
  ...docs,
  ...docs.slice(0, 300).map((d, i) => ({
    ...d,
    id: `${d.id}-v`,
    text: i % 2 ? d.text.toUpperCase() : `  ${d.text.replaceAll(' ', '   ')}\n`,
  })),
];

describe('Splitter', () => {
  it.each([false, true])(
    'never lets texts that normalize equal straddle splits (stratify %s)',
    (stratify) => {
      const docs = withVariants(imdb);
      const {splits} = assign(docs, {ratios: [0.8, 0.1, 0.1], stratify});
      const splitOf = new Map<string, number>();
      let repeats = 0;
      docs.forEach((doc, i) => {
        const key = normalizeText(doc.text);
        if (splitOf.has(key)) {
          repeats++;
          expect(splits[i], doc.id).toBe(splitOf.get(key));
        } else splitOf.set(key, splits[i]);
      });
      expect(repeats).toBeGreaterThanOrEqual(300 + 25); // the variants and the fixture's own duplicates
    },
  );

  it('keeps the ratios within 2.5 points on the fixture, per split and per label', () => {
    const {report} = assign(imdb, {ratios: [0.8, 0.1, 0.1]});
    expect(report.names).toEqual(['train', 'val', 'test']);
    expect(report.rows).toBe(2000);
    [0.8, 0.1, 0.1].forEach((ratio, i) => {
      const name = report.names[i];
      expect(Math.abs(report.counts[name] / 2000 - ratio)).toBeLessThan(0.025);
      for (const label of ['neg', 'pos'])
        expect(Math.abs(report.labels[name][label] / 1000 - ratio)).toBeLessThan(0.035);
    });
  });

  it('stratified: every label within one row of its share', () => {
    const {report} = assign(imdb, {ratios: [70, 15, 15], names: ['a', 'b', 'c'], stratify: true});
    expect(report.ratios).toEqual([0.7, 0.15, 0.15]);
    for (const label of ['neg', 'pos']) {
      const total = report.names.reduce((sum, name) => sum + report.labels[name][label], 0);
      report.names.forEach((name, i) => {
        expect(Math.abs(report.labels[name][label] - report.ratios[i] * total)).toBeLessThanOrEqual(1);
      });
    }
  });

  it('gives the same split on every run, whatever else is in the input; the seed salts it', () => {
    const full = assign(imdb, {ratios: [0.8, 0.2]}).splits;
    expect(assign(imdb, {ratios: [0.8, 0.2]}).splits).toEqual(full);
    const odd = imdb.filter((_, i) => i % 2 === 1);
    expect(assign(odd, {ratios: [0.8, 0.2]}).splits).toEqual(full.filter((_, i) => i % 2 === 1));
    const salted = assign(imdb, {ratios: [0.8, 0.2], seed: 7}).splits;
    const moved = salted.filter((s, i) => s !== full[i]).length;
    expect(moved).toBeGreaterThan(400); // ~2·0.8·0.2 of 2000 rows expected
  });

  it("sends augmented rows to their source row's split, and counts the ones without a source", async () => {
    const augmented = await all(augmentDocs(imdb.slice(0, 200), {numAug: 3, ops: ['rs', 'rd', 'typo']}));
    const orphan: Doc = {id: 'x#aug1', text: 'lone copy', fields: {augmented: true, source_id: 'x'}};
    const docs = [...augmented, orphan];
    const {splits, report} = assign(docs, {ratios: [0.5, 0.3, 0.2]});
    const splitOf = new Map(docs.map((d, i) => [d.id, splits[i]]));
    for (const doc of augmented.filter((d) => d.fields.augmented)) {
      expect(splitOf.get(doc.id)).toBe(splitOf.get(doc.fields.source_id as string));
    }
    expect(report).toMatchObject({augmentedRows: 601, augmentedWithSource: 600});
    // The originals split exactly as they do without their copies.
    const alone = assign(imdb.slice(0, 200), {ratios: [0.5, 0.3, 0.2]}).splits;
    expect(imdb.slice(0, 200).map((d) => splitOf.get(d.id))).toEqual(alone);
  });

  it('rejects bad ratios and names with a fix', () => {
    expect(() => new Splitter({ratios: [1]})).toThrow(ConfigError);
    expect(() => new Splitter({ratios: [0.5, -0.5]})).toThrow(/positive.*--ratios 0.8,0.1,0.1/);
    expect(() => new Splitter({ratios: [1, 1], names: ['a']})).toThrow(
      /2 ratios need 2 distinct names.*--names/,
    );
    expect(() => new Splitter({ratios: [1, 1], names: ['a', 'a']})).toThrow(ConfigError);
    expect(new Splitter({ratios: [1, 1, 1, 1]}).names).toEqual(['split1', 'split2', 'split3', 'split4']);
  });
});

describe('runSplit', () => {
  it('writes one file per split in the input format, rows unchanged', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'split-test-'));
    const report = await runSplit({
      input: 'fixtures/imdb/reviews.jsonl',
      outDir: join(dir, 'out'),
      ratios: [0.8, 0.1, 0.1],
    });
    expect(await readdir(join(dir, 'out'))).toEqual(['test.jsonl', 'train.jsonl', 'val.jsonl']);
    const lines = await Promise.all(report.names.map((n) => readFile(report.files[n], 'utf8')));
    const rows = lines.flatMap((text) => text.trim().split('\n'));
    expect(rows).toHaveLength(2000);
    const original = (await readFile('fixtures/imdb/reviews.jsonl', 'utf8')).trim().split('\n');
    expect(new Set(rows)).toEqual(new Set(original));
    report.names.forEach((n, i) => {
      expect(lines[i].trim().split('\n')).toHaveLength(report.counts[n]);
    });
  });

  it('refuses split names that are not plain file names', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'split-test-'));
    const options = {input: 'fixtures/imdb/reviews.jsonl', outDir: dir, ratios: [1, 1]};
    await expect(runSplit({...options, names: ['train', '../escape']})).rejects.toThrow(
      /"..\/escape" is not a plain file name/,
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('leaves no split file, and no --out-dir it made, when a row is malformed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'split-test-'));
    const input = join(dir, 'in.csv');
    await writeFile(input, 'id,text\n1,fine\n2,"unclosed\n');
    await expect(runSplit({input, outDir: join(dir, 'out'), ratios: [0.5, 0.5]})).rejects.toThrow(
      DatasetError,
    );
    // Not even the --out-dir folder that the run made.
    expect(existsSync(join(dir, 'out'))).toBe(false);
    expect(await readdir(dir)).toEqual(['in.csv']);
  });
});
