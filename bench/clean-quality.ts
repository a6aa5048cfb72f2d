// npm run bench:clean-quality [-- --json] [-- --per-source 2000] [-- --no-model]: issue 15's
// evaluation of `clean` on real text it was not written against. Documents are cut to 5-500 words
// from five real sources; near copies (one kind of edit each), exact copies, real short documents
// and generated junk are mixed in. Thresholds and word tables were chosen on the tuning split
// (IMDB reviews, Reuters stories, State of the Union addresses; the `tune` junk generators) and are
// validated on the held-out split (spam-assassin emails, Moby-Dick; the `validate` generators, another
// seed). Prints recall per edit and per length bucket, junk removed per kind, originals kept, real
// documents lost, a near-threshold sweep, and the quality-model bar.
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {presetConfig} from '../src/data/filters/filter-config.js';
import {
  buildCorpus,
  distinctTexts,
  EDIT_KINDS,
  type EvalRow,
  LENGTH_BUCKETS,
  type SourceDoc,
} from '../test/data/eval-corpus.js';
import {JUNK_KINDS, type JunkVariant, makeJunk} from '../test/data/eval-junk.js';
import {
  cleanRows,
  type EvalScore,
  QUALITY_MODEL_TRAINING,
  type Rate,
  ratio,
  scoreRun,
} from '../test/data/eval-score.js';
import {shortDocs} from '../test/data/eval-sources.js';
import {packageSources} from './clean-quality-sources.js';
import {printBar, printRows, type Row, wantsJson} from './report.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const PER_SOURCE = arg('--per-source', 2000);
const JUNK_PER_KIND = arg('--junk-per-kind', 200);
const SPLITS: Record<string, {sources: string[]; junk: JunkVariant; seed: number}> = {
  tune: {sources: ['imdb', 'reuters', 'sotu'], junk: 'tune', seed: 1},
  validate: {sources: ['email', 'moby'], junk: 'validate', seed: 2},
};
const log = (s: string) => process.stderr.write(`${s}\n`);

const all = packageSources();
interface Split {
  rows: EvalRow[];
  repeats: number[];
}

function makeSplit(name: string): Split {
  const {sources, junk, seed} = SPLITS[name]!;
  const units: Record<string, SourceDoc[]> = Object.fromEntries(sources.map((s) => [s, all[s]!]));
  // The generators borrow lines and words from the units kept apart for short documents.
  const reserved = Object.values(units).flatMap((u) => u.filter((_, i) => i % 5 === 4).map((d) => d.text));
  const ctx = {
    lines: reserved.flatMap((t) => t.split('\n')).filter((l) => l.split(/\s+/).length >= 4 && l.length < 200),
    words: reserved.join(' ').split(/\s+/).slice(0, 200_000),
    docs: reserved,
  };
  const d = distinctTexts();
  const {rows} = buildCorpus(
    {
      sources: units,
      shortDocs: (s, u) => shortDocs(s, u, 400),
      originalsPerSource: PER_SOURCE,
      nearRate: 0.5,
      exactRate: 0.1,
      junk: makeJunk(junk, JUNK_PER_KIND, ctx, seed),
      seed,
    },
    d.distinct,
  );
  d.close();
  return {rows, repeats: d.repeats};
}

const started = performance.now();
const splits = Object.fromEntries(Object.keys(SPLITS).map((name) => [name, makeSplit(name)]));
log(`corpora built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
const defaults = {filters: presetConfig('default')};
const scores: Record<string, EvalScore> = Object.fromEntries(
  Object.entries(splits).map(([name, split]) => [
    name,
    scoreRun(split.rows, cleanRows(split.rows, defaults)),
  ]),
);

const cell = (r: Rate | undefined) => (r && r.of > 0 ? `${ratio(r).toFixed(3)} (${r.hit}/${r.of})` : '');
const table = (
  title: string,
  keys: readonly string[],
  pick: (s: EvalScore, key: string) => Rate | undefined,
) => {
  if (!wantsJson) process.stdout.write(`\n${title}\n`);
  printRows(
    keys.map((key) => {
      const row: Row = {[title.split(' ')[0]!]: key};
      for (const [name, s] of Object.entries(scores)) row[name] = cell(pick(s, key));
      return row;
    }),
  );
};
table(
  'edit (near copies with raw char 5-gram J >= 0.7, removed by dedup)',
  EDIT_KINDS,
  (s, k) => s.nearByEdit[k],
);
table(
  'words (of the original)',
  LENGTH_BUCKETS.map(([lo, hi]) => `${lo}-${hi}`),
  (s, k) => s.nearByLength[k],
);
table('junk (removed by the default rules)', JUNK_KINDS, (s, k) => s.junkByKind[k]);
const summary: [string, (s: EvalScore) => Rate][] = [
  ['near copies, J >= 0.7', (s) => s.near],
  ['near copies, J < 0.7 (not in the bar)', (s) => s.nearBelow],
  ['exact copies', (s) => s.exact],
  ['originals (and short documents) kept', (s) => s.originalsKept],
  ['real documents lost to the rules', (s) => s.realLost],
  ['real short documents (<= 20 words) lost', (s) => s.shortLost],
  ['junk removed', (s) => s.junkRemoved],
];
table(
  'measure',
  summary.map(([k]) => k),
  (s, k) => summary.find(([name]) => name === k)![1](s),
);
for (const [name, s] of Object.entries(scores)) {
  for (const [reason, {count, example}] of Object.entries(s.realLostBy))
    log(`${name}: ${count} real lost to ${reason}, e.g. ${JSON.stringify(example)}`);
}

// How near the sources' own repeats are (left out of the originals so "originals kept" counts only
// distinct documents), and what each near threshold would do.
if (!wantsJson) process.stdout.write('\nnear threshold sweep (default rules; near recall at raw J >= 0.7)\n');
const sweep: Row[] = [];
for (const t of [0.5, 0.6, 0.65, 0.7, 0.75, 0.8]) {
  const row: Row = {threshold: t};
  for (const [name, split] of Object.entries(splits)) {
    const s = scoreRun(split.rows, cleanRows(split.rows, {...defaults, threshold: t}));
    const buckets = Object.values(s.nearByLength).filter((r) => r.of > 0);
    row[`${name}_recall`] = Number(ratio(s.near).toFixed(3));
    row[`${name}_worst_bucket`] = Number(Math.min(...buckets.map(ratio)).toFixed(3));
    row[`${name}_kept`] = Number(ratio(s.originalsKept).toFixed(4));
    row[`${name}_repeats_at_or_above`] = split.repeats.filter((j) => j >= t).length;
  }
  sweep.push(row);
}
printRows(sweep);

const v = scores.validate!;
const t = scores.tune!;
for (const [name, s] of [
  ['tune', t],
  ['validate (held out)', v],
] as const) {
  const worst = Object.entries(s.nearByLength)
    .filter(([, r]) => r.of > 0)
    .sort((a, b) => ratio(a[1]) - ratio(b[1]))[0]!;
  printBar(
    `${name}: near copies (J >= 0.7) removed >= 0.90, >= 0.85 in every length bucket`,
    ratio(s.near) >= 0.9 && ratio(worst[1]) >= 0.85,
    `${ratio(s.near).toFixed(3)}, worst bucket ${worst[0]} words ${ratio(worst[1]).toFixed(3)}`,
  );
  printBar(`${name}: originals kept >= 0.995`, ratio(s.originalsKept) >= 0.995, cell(s.originalsKept));
  printBar(`${name}: junk removed by default >= 0.85`, ratio(s.junkRemoved) >= 0.85, cell(s.junkRemoved));
  printBar(`${name}: real documents lost to the rules <= 0.5%`, ratio(s.realLost) <= 0.005, cell(s.realLost));
}

if (!process.argv.includes('--no-model')) await qualityModelBar();

type Labelled = {id: string; text: string; label: string; kind: string};

/**
 * Issue 15's model bar: a `bag` classifier trained on 500 labelled rows (250 real documents
 * labelled good, 250 junk rows of every kind labelled bad). --min-quality is chosen on 1,000 other labelled rows (the largest
 * probability that removes at most 1% of their good rows), then the held-out rest is cleaned with
 * `clean --quality-model` (cleanWithModels): once with the rules and dedup off (the classifier
 * alone) and once with the default rules in front (rules plus a model check).
 */
async function qualityModelBar(): Promise<void> {
  const {initBackend} = await import('../src/backend/backend.js');
  const {trainClassifier} = await import('../src/models/text-classifier/classifier-train.js');
  const {cleanWithModels, qualityScorer} = await import('../src/workflows/clean-with-models.js');
  await initBackend();
  const dir = mkdtempSync(join(tmpdir(), 'dsk-bench-quality-'));
  const labelled = (rows: EvalRow[]): Labelled[] =>
    rows
      .filter((r) => r.role === 'original' || r.role === 'short' || r.role === 'junk')
      .map((r) => ({
        id: r.id,
        text: r.text,
        label: r.role === 'junk' ? 'bad' : 'good',
        kind: r.kind ?? r.source,
      }));
  const write = (name: string, rows: Labelled[]) => {
    const path = join(dir, name);
    writeFileSync(path, `${rows.map(({id, text, label}) => JSON.stringify({id, text, label})).join('\n')}\n`);
    return path;
  };
  // 250 good and 250 junk rows to train on, 1,000 more to choose --min-quality on, the rest to test;
  // interleaved so that each part holds all sources and both junk variants.
  const split = (rows: Labelled[]) => {
    const good = interleave(rows.filter((r) => r.label === 'good'));
    const bad = interleave(rows.filter((r) => r.label === 'bad'));
    return {
      train: interleave([...good.slice(0, 250), ...bad.slice(0, 250)]),
      dev: interleave([...good.slice(250, 1000), ...bad.slice(250, 500)]),
      test: interleave([...good.slice(1000), ...bad.slice(500)]),
    };
  };
  const random = split([...labelled(splits.tune!.rows), ...labelled(splits.validate!.rows)]);
  const tuned = split(labelled(splits.tune!.rows));
  const cases = [
    {name: 'random split, all sources', ...random},
    {
      name: 'tuning split -> held-out sources',
      train: tuned.train,
      dev: tuned.dev,
      test: labelled(splits.validate!.rows),
    },
  ];
  const rows: Row[] = [];
  const perKind: Record<string, Row> = {};
  for (const [i, c] of cases.entries()) {
    const out = join(dir, `run-${i}`);
    const t0 = performance.now();
    await trainClassifier({
      data: write(`train-${i}.jsonl`, c.train),
      out,
      ...QUALITY_MODEL_TRAINING,
    });
    const trainSeconds = (performance.now() - t0) / 1000;
    const scorer = await qualityScorer(out, 'good');
    const devScores = await scorer.score(c.dev.map((r) => r.text));
    scorer.dispose();
    const devGood = c.dev.filter((r) => r.label === 'good').length;
    const goodUnder = (p: number) =>
      c.dev.filter((r, j) => r.label === 'good' && devScores[j]! < p).length / devGood;
    const minQuality = [0.5, 0.4, 0.3, 0.2, 0.1, 0.05].find((p) => goodUnder(p) <= 0.01) ?? 0.05;
    const input = write(`test-${i}.jsonl`, c.test);
    for (const filters of ['none', 'default']) {
      const rejected = join(dir, `rejected-${i}-${filters}.jsonl`);
      const report = await cleanWithModels({
        input,
        output: join(dir, `kept-${i}.jsonl`),
        rejected,
        filters,
        dedup: 'none',
        qualityModel: out,
        qualityLabel: 'good',
        minQuality,
      });
      const dropped = new Set(
        readFileSync(rejected, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => (JSON.parse(l) as {id: string}).id),
      );
      const bad = c.test.filter((r) => r.label === 'bad');
      const good = c.test.filter((r) => r.label === 'good');
      rows.push({
        case: c.name,
        rules: filters,
        min_quality: minQuality,
        test_good: good.length,
        test_junk: bad.length,
        junk_removed: Number((bad.filter((r) => dropped.has(r.id)).length / bad.length).toFixed(3)),
        good_removed: Number((good.filter((r) => dropped.has(r.id)).length / good.length).toFixed(4)),
        train_s: Number(trainSeconds.toFixed(1)),
        rows_per_s: Math.round(report.rowsIn / report.seconds),
      });
      if (i === 0 && filters === 'none') {
        for (const r of c.test) {
          const key = r.label === 'bad' ? r.kind : `good (${r.kind})`;
          const e = perKind[key] ?? {kind: key, rows: 0, removed: 0};
          perKind[key] = e;
          e.rows = (e.rows as number) + 1;
          if (dropped.has(r.id)) e.removed = (e.removed as number) + 1;
        }
      }
    }
  }
  if (!wantsJson) process.stdout.write('\nquality model (bag classifier, 500 labelled rows)\n');
  printRows(rows);
  if (!wantsJson) process.stdout.write('\nthe classifier alone, by kind (random split)\n');
  printRows(
    Object.values(perKind).map((e) => ({
      ...e,
      share: Number(((e.removed as number) / (e.rows as number)).toFixed(3)),
    })),
  );
  for (const r of rows.filter((x) => x.case === cases[0]!.name)) {
    printBar(
      `quality model (${r.rules === 'none' ? 'classifier alone' : 'default rules, then the classifier'}): junk removed >= 0.9, good rows removed <= 2% on a held-out split`,
      (r.junk_removed as number) >= 0.9 && (r.good_removed as number) <= 0.02,
      `junk ${r.junk_removed}, good ${r.good_removed} at --min-quality ${r.min_quality}`,
    );
  }
  rmSync(dir, {recursive: true, force: true});
}

/** Rows in a fixed pseudo-random order (by a hash of the id), so every prefix mixes all kinds. */
function interleave<T extends {id: string}>(rows: T[]): T[] {
  const key = (id: string) => {
    let h = 0x811c9dc5;
    for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
    return h >>> 0;
  };
  return [...rows].sort((a, b) => key(a.id) - key(b.id));
}
