// The quality-model loop of issue 15 in small, on the fixture slices: label rows good/bad → train a
// `bag` classifier on 500 of them → `clean --quality-model`; and a tiny language model as a
// perplexity check. bench:clean-quality measures the same on the full sources.
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {cleanDataset} from '../../src/data/clean.js';
import {ConfigError} from '../../src/errors.js';
import {trainLanguageModel} from '../../src/models/causal-lm/causal-lm-train.js';
import {trainClassifier} from '../../src/models/text-classifier/classifier-train.js';
import {cleanWithModels, perplexityScorer, qualityScorer} from '../../src/workflows/clean-with-models.js';
import {buildCorpus, distinctTexts} from '../data/eval-corpus.js';
import {makeJunk} from '../data/eval-junk.js';
import {QUALITY_MODEL_TRAINING} from '../data/eval-score.js';
import {fixtureSources, shortDocs} from '../data/eval-sources.js';
import {runCli} from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'dsk-quality-model-'));
type Labelled = {id: string; text: string; label: string; kind: string};
let train: Labelled[];
let dev: Labelled[];
let test: Labelled[];
const classifier = join(dir, 'quality');
const lm = join(dir, 'lm');

function write(name: string, data: Labelled[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${data.map(({id, text, label}) => JSON.stringify({id, text, label})).join('\n')}\n`);
  return path;
}
const ids = (path: string) =>
  new Set(
    readFileSync(path, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as {id: string}).id),
  );

beforeAll(async () => {
  await initBackend();
  const units = fixtureSources();
  const reserved = Object.values(units).flatMap((u) => u.filter((_, i) => i % 5 === 4).map((d) => d.text));
  const ctx = {
    lines: reserved.flatMap((t) => t.split('\n')).filter((l) => l.length > 20),
    words: reserved.join(' ').split(/\s+/),
    docs: reserved,
  };
  const d = distinctTexts();
  const corpus = buildCorpus(
    {
      sources: units,
      shortDocs: (s, u) => shortDocs(s, u, 40),
      originalsPerSource: 200,
      nearRate: 0,
      exactRate: 0,
      junk: [...makeJunk('tune', 30, ctx, 1), ...makeJunk('validate', 30, ctx, 2)],
      seed: 4,
    },
    d.distinct,
  );
  d.close();
  const all = corpus.rows.map((r) => ({
    id: r.id,
    text: r.text,
    label: r.role === 'junk' ? 'bad' : 'good',
    kind: r.kind ?? r.source,
  }));
  const good = all.filter((r) => r.label === 'good');
  const bad = all.filter((r) => r.label === 'bad');
  // 250 good and 250 bad rows to train on, then 300 to choose --min-quality on, then the rest to test.
  train = [...good.slice(0, 250), ...bad.slice(0, 250)];
  dev = [...good.slice(250, 475), ...bad.slice(250, 325)];
  test = [...good.slice(475), ...bad.slice(325)];
  await trainClassifier({
    data: write('train.jsonl', train),
    out: classifier,
    ...QUALITY_MODEL_TRAINING,
  });
  await trainLanguageModel({
    data: 'fixtures/text/moby-dick.txt',
    out: lm,
    preset: 'tiny',
    steps: 60,
    lr: 3e-3,
    seed: 1,
  });
}, 240_000);
afterAll(() => rmSync(dir, {recursive: true, force: true}));

describe('clean --quality-model: a bag classifier trained on 500 labelled rows', () => {
  it('with the default rules in front removes >= 0.9 of the junk and <= 2% of good rows, more junk than the rules alone', async () => {
    // --min-quality from 300 other labelled rows: the largest that removes at most 1% of their good rows.
    expect(train).toHaveLength(500);
    const scorer = await qualityScorer(classifier, 'good');
    const devScores = await scorer.score(dev.map((r) => r.text));
    scorer.dispose();
    const devGood = dev.filter((r) => r.label === 'good');
    const minQuality =
      [0.5, 0.4, 0.3, 0.2, 0.1].find(
        (p) => dev.filter((r, i) => r.label === 'good' && devScores[i]! < p).length <= 0.01 * devGood.length,
      ) ?? 0.1;
    const input = write('test.jsonl', test);
    const removed = async (filters: string) => {
      const rejected = join(dir, `rejected-${filters}.jsonl`);
      await cleanWithModels({
        input,
        output: join(dir, 'kept.jsonl'),
        rejected,
        filters,
        dedup: 'none',
        qualityModel: classifier,
        minQuality,
      });
      return ids(rejected);
    };
    const share = (set: Set<string>, keep: (r: Labelled) => boolean) => {
      const of = test.filter(keep);
      return of.filter((r) => set.has(r.id)).length / of.length;
    };
    const alone = await removed('none');
    expect(share(alone, (r) => r.label === 'good')).toBeLessThanOrEqual(0.02);
    // The classifier alone finds most junk a bag of words can see; word salad and a repeated line
    // have the bag of words of prose, so no bag-of-words model sees them (the rules do).
    const visible = (r: Labelled) =>
      r.label === 'bad' && r.kind !== 'word_salad' && r.kind !== 'repeated_lines';
    expect(share(alone, visible)).toBeGreaterThanOrEqual(0.5);
    // Rules plus a model check: the bar, and more junk than the rules alone.
    const rulesOnly = join(dir, 'rejected-rules.jsonl');
    await cleanDataset({input, output: join(dir, 'kept.jsonl'), rejected: rulesOnly, dedup: 'none'});
    const withRules = await removed('default');
    expect(share(withRules, (r) => r.label === 'bad')).toBeGreaterThanOrEqual(0.9);
    expect(share(withRules, (r) => r.label === 'good')).toBeLessThanOrEqual(0.02);
    expect(share(withRules, (r) => r.label === 'bad')).toBeGreaterThan(
      share(ids(rulesOnly), (r) => r.label === 'bad'),
    );
  }, 120_000);

  it('runs from the CLI: clean hands model flags over to its model-check command (--json report, score field)', () => {
    const out = join(dir, 'cli-kept.jsonl');
    const r = runCli([
      'clean',
      '--in',
      'fixtures/imdb/test.jsonl',
      '--out',
      out,
      '--quality-model',
      classifier,
      '--min-quality',
      '0',
      '--score-field',
      'quality',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.rows_out).toBeGreaterThan(0);
    const first = JSON.parse(readFileSync(out, 'utf8').split('\n')[0]!);
    expect(first.quality).toBeGreaterThanOrEqual(0);
    const bad = runCli([
      'clean',
      '--in',
      'fixtures/imdb/test.jsonl',
      '--quality-model',
      classifier,
      '--min-quality',
      '2',
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--min-quality/);
  });

  it('names the labels when --quality-label is not one of them', async () => {
    const run = cleanWithModels({
      input: 'fixtures/imdb/test.jsonl',
      output: join(dir, 'x.jsonl'),
      qualityModel: classifier,
      qualityLabel: 'pos',
    });
    await expect(run).rejects.toBeInstanceOf(ConfigError);
    await expect(run).rejects.toThrow(`${classifier} has no label "pos"`);
  });
});

describe('clean --perplexity-model', () => {
  it('scores junk far above real text, drops high_perplexity, writes both scores', async () => {
    const scorer = await perplexityScorer(lm);
    const real = [
      'It was a dark night, and the sea ran high.',
      'Call me Ishmael, and let us go to sea together.',
    ];
    const junk = ['qwpeoiru aslkdjf zmxncbv', 'x7$kQ!9z@ #&%^*(){}[]'];
    const [r1, r2, j1, j2] = await scorer.score([...real, ...junk]);
    scorer.dispose();
    expect(Math.min(j1!, j2!)).toBeGreaterThan(Math.max(r1!, r2!));
    const input = write(
      'mixed.jsonl',
      [...real, ...junk].map((text, i) => ({id: String(i), text, label: 'good', kind: ''})),
    );
    const out = join(dir, 'kept-lm.jsonl');
    const rejected = join(dir, 'rejected-lm.jsonl');
    const max = Math.sqrt(Math.max(r1!, r2!) * Math.min(j1!, j2!));
    const report = await cleanWithModels({
      input,
      output: out,
      rejected,
      filters: 'none',
      dedup: 'none',
      qualityModel: classifier,
      minQuality: 0,
      perplexityModel: lm,
      maxPerplexity: max,
      scoreField: 'q',
    });
    expect(report.dropped).toEqual({high_perplexity: 2});
    const kept = readFileSync(out, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(kept.map((k) => k.id)).toEqual(['0', '1']);
    expect(kept[0]).toMatchObject({q: expect.any(Number), q_perplexity: expect.any(Number)});
    expect(ids(rejected)).toEqual(new Set(['2', '3']));
  });

  it('requires --max-perplexity', async () => {
    await expect(
      cleanWithModels({input: 'fixtures/imdb/test.jsonl', output: join(dir, 'y.jsonl'), perplexityModel: lm}),
    ).rejects.toThrow(/needs --max-perplexity/);
  });
});
