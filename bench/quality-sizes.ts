/**
 * `npm run bench:quality -- --sizes 5000,20000`: where does a transformer start to beat the bag?
 * Trains the automatic bag plan and the `small` transformer preset (its own schedule) on growing
 * numbers of rows and scores both on one fixed validation set per dataset — never a test split:
 *
 * - imdb: the 50k reviews minus the imdb set's test split; the first 2,000 (hash order) score, the
 *   next N train.
 * - headlines: its training file's 10% holdout scores, the other 90% (up to N rows) train.
 *
 * Early stopping watches a third set (a tenth of the rest, 1 in 10 rows), so the scoring rows stay unseen.
 */
import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import {loadavg, tmpdir} from 'node:os';
import {join} from 'node:path';
import {holdout} from '../src/models/classify/labeled-data.js';
import type {ClassifierEvaluation} from '../src/models/model-kind.js';
import {evaluateRun} from '../src/workflows/evaluate.js';
import {trainRun} from '../src/workflows/train.js';
import {imdbOutsideTest, qualityDatasets, type Row} from './quality-data.js';
import type {Row as TableRow} from './report.js';

const SCORED_IMDB = 2_000;

const jsonl = (rows: readonly Row[]) =>
  `${rows.map((r) => JSON.stringify({text: r.text, label: r.label})).join('\n')}\n`;

/**
 * Per dataset: the rows scored, the rows early stopping watches, and the pool the training rows are
 * taken from (a prefix of it). The early-stopping rows are every tenth of the rest, as the rows left
 * after `holdout` would yield no holdout of their own (the same text hash).
 */
function sizeSets(names?: readonly string[]): {name: string; scored: Row[]; stopping: Row[]; pool: Row[]}[] {
  const tenth = (rows: Row[]) => ({
    stopping: rows.filter((_, i) => i % 10 === 0),
    pool: rows.filter((_, i) => i % 10 !== 0),
  });
  const want = (n: string) => !names?.length || names.includes(n);
  const sets = [];
  if (want('imdb')) {
    const imdb = imdbOutsideTest();
    sets.push({name: 'imdb', scored: imdb.slice(0, SCORED_IMDB), ...tenth(imdb.slice(SCORED_IMDB))});
  }
  if (want('headlines')) {
    const split = holdout(qualityDatasets(['headlines'])[0]!.train.map((r) => ({...r, weight: 1})));
    sets.push({name: 'headlines', scored: split.val, ...tenth(split.train)});
  }
  return sets;
}

/** One row per dataset × size × model: validation accuracy, macro-F1, epochs, CPU and wall seconds. */
export async function measureSizes(
  sizes: readonly number[],
  datasets?: readonly string[],
): Promise<TableRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'dsk-bench-sizes-'));
  const rows: TableRow[] = [];
  try {
    for (const set of sizeSets(datasets)) {
      const scoredFile = join(dir, `${set.name}-scored.jsonl`);
      const stoppingFile = join(dir, `${set.name}-stopping.jsonl`);
      await writeFile(scoredFile, jsonl(set.scored));
      await writeFile(stoppingFile, jsonl(set.stopping));
      // Sizes past the pool collapse into one run on all of it.
      const ns = [...new Set(sizes.map((n) => Math.min(n, set.pool.length)))];
      for (const n of ns) {
        const trainFile = join(dir, `${set.name}-${n}.jsonl`);
        await writeFile(trainFile, jsonl(set.pool.slice(0, n)));
        for (const preset of ['automatic', 'small'] as const) {
          const out = join(dir, `${set.name}-${n}-${preset}`);
          const cpu0 = process.cpuUsage();
          const wall0 = performance.now();
          let chose = preset as string;
          const report = await trainRun('classify', {
            data: trainFile,
            val: stoppingFile,
            out,
            preset: preset === 'small' ? 'small' : undefined,
            onInfo: (m) => {
              if (m.startsWith('chose')) chose = m.split(' ')[1]!;
            },
          });
          const cpu = process.cpuUsage(cpu0);
          const wall = (performance.now() - wall0) / 1000;
          const ev = (await evaluateRun({model: out, data: scoredFile})) as ClassifierEvaluation;
          rows.push({
            dataset: set.name,
            train_rows: n,
            scored_rows: set.scored.length,
            model: chose,
            val_acc: ev.accuracy.toFixed(4),
            val_f1: ev.macro_f1.toFixed(4),
            epochs: report.epochs,
            train_cpu_s: (cpu.user + cpu.system) / 1e6,
            train_s: wall,
            params: report.parameters,
            load_avg: loadavg()[0]!,
          });
          process.stderr.write(`${JSON.stringify(rows.at(-1))}\n`);
          await rm(out, {recursive: true, force: true});
        }
      }
    }
  } finally {
    await rm(dir, {recursive: true, force: true});
  }
  return rows;
}
