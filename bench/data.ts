// npm run bench:data [-- --json] [-- --mb 64]: throughput and peak memory of the data steps on a
// corpus built from the fixtures (unique documents of mixed real sentences, with injected exact and
// near copies). Bars (issue 3), one core: exact dedup + default filters >= 50 MB/s, MinHash LSH
// near dedup >= 10 MB/s, memory independent of input size apart from the per-document dedup state
// (streaming: live memory after GC at 64 vs 256 MB in; near dedup: peak RSS per document). Each
// row runs in its own process, so its peak RSS is its own.
import {spawnSync} from 'node:child_process';
import {
  closeSync,
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {createInterface} from 'node:readline';
import {fileURLToPath} from 'node:url';
import {cleanDataset} from '../src/data/clean.js';
import {nearCopy, seeded} from '../test/data/near-copies.js';
import {printBar, printRows, type Row, wantsJson} from './report.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIR = join(tmpdir(), 'deepseek-kit-bench-data');
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};

/** Injected copies: exact ones of any earlier doc, near ones (1% word edits) of docs of >= 100 words. */
const EXACT_RATE = 0.03;
const NEAR_RATE = 0.03;

interface Step {
  name: string;
  run: (
    file: string,
    out: string,
  ) => Promise<{
    docs: number;
    removed?: Record<string, number>;
    stateBytesPerDoc?: number;
    workerPeakRssMb?: number;
    stateMbPerWorker?: number;
    stageSeconds?: Record<string, number>;
    nsPerChar?: number;
    live?: Live;
  }>;
}

/**
 * Live memory after a full GC at points through the input: the JS heap in use plus ArrayBuffers
 * (Buffers). Not the rest of `external` (strings decoded from the file, held outside the heap):
 * after GC it moves between 13 and 30 MB from sample to sample of one run, while the heap stays
 * within 0.3 MB.
 */
interface Live {
  /** Input MB consumed at each sample. */
  atMb: number[];
  inputMb: number;
  mb: number[];
}

/** Samples a step's live memory LIVE_SAMPLES times, evenly through its input (the child runs with --expose-gc). */
const LIVE_SAMPLES = 16;
// The same code measured -0.6 to +0.9 MB of growth (5 runs, 2026-12-07, load ~9); a row kept per
// document as a short string (~40 B) +9.8 and +12.7 MB, as a 32-byte Buffer +21.1 MB. Between the
// two floors lie ~155,000 documents: 4 MB flags a leak of ~26 bytes per document or more (8 bytes,
// a number per row, measured +0.3 MB: below what this input can show).
const LIVE_TOLERANCE_MB = 4;

const clean =
  (filters: string, dedup: 'both' | 'exact' | 'near' | 'none'): Step['run'] =>
  async (file, out) => {
    const r = await cleanDataset({
      input: file,
      output: out,
      filters,
      dedup,
      rejected: `${out}.rejected.jsonl`,
    });
    const removed = await rejectedRecall(`${out}.rejected.jsonl`);
    return {docs: r.rowsIn, removed, stateBytesPerDoc: r.dedup.stateBytesPerDoc};
  };

/**
 * clean --workers N: each stage and shard a process (stage-worker.ts, run from the sources under tsx
 * here; start-up included, as a user pays it). Shard i reads only its line-aligned byte range.
 * Reports the largest peak RSS of any worker process and the dedup state per worker: the largest
 * exact-partition and bucket-partition tables (the state a single process holds whole).
 */
function staged(workers: number): Step['run'] {
  return async (file, out) => {
    const {cleanWithWorkers} = await import('../src/data/stages/clean-workers.js');
    const r = await cleanWithWorkers({input: file, output: out, workers, rejected: `${out}.rejected.jsonl`});
    const removed = await rejectedRecall(`${out}.rejected.jsonl`);
    const peak = (stage: string) =>
      Math.max(...r.stages.filter((s) => s.stage === stage).map((s) => s.stateBytes));
    return {
      docs: r.rowsIn,
      removed,
      workerPeakRssMb: Math.max(...r.stages.map((s) => s.peakRssBytes ?? 0)) / 2 ** 20,
      stateMbPerWorker: (peak('exact') + peak('buckets')) / 2 ** 20,
      stageSeconds: Object.fromEntries(
        ['sign', 'exact', 'buckets', 'verify', 'resolve', 'write'].map((n) => [
          n,
          Math.max(...r.stages.filter((s) => s.stage === n).map((s) => s.seconds)),
        ]),
      ),
    };
  };
}

const STEPS: Record<string, Step> = {
  io: {name: 'read + write only', run: clean('none', 'none')},
  exact: {name: 'exact dedup', run: clean('none', 'exact')},
  filters: {name: 'default filters', run: clean('default', 'none')},
  'exact+filters': {name: 'exact dedup + default filters', run: clean('default', 'exact')},
  near: {name: 'MinHash LSH near dedup', run: clean('none', 'near')},
  clean: {name: 'clean (default filters, exact + near)', run: clean('default', 'both')},
  web: {name: 'web filters (Gopher, C4, FineWeb)', run: clean('web', 'none')},
  'staged-1': {name: 'staged clean, 1 worker', run: staged(1)},
  'staged-2': {name: 'staged clean, 2 workers', run: staged(2)},
  // Streaming's live memory: a row kept per document grows it along the input, where peak RSS moves
  // by tens of MB from run to run with when the collector runs (121-155 MB for the same code).
  memory: {
    name: 'read + write only, live after GC',
    run: async (file, out) => {
      const gc = (globalThis as {gc?: () => void}).gc;
      if (!gc) throw new Error('the memory row runs its child with node --expose-gc');
      const total = statSync(file).size;
      const step = total / LIVE_SAMPLES;
      const live: Live = {atMb: [], inputMb: total / 1e6, mb: []};
      let next = step;
      const r = await cleanDataset({
        input: file,
        output: out,
        filters: 'none',
        dedup: 'none',
        onProgress: ({bytes}) => {
          if (bytes < next || bytes >= total) return; // at the end the reader has let go of its buffers
          next += step;
          gc();
          const m = process.memoryUsage();
          live.atMb.push(bytes / 1e6);
          live.mb.push((m.heapUsed + m.arrayBuffers) / 2 ** 20);
        },
      });
      return {docs: r.rowsIn, live};
    },
  },
  // The default rules' one counting pass alone (what most of their time is), per character of text:
  // the number to compare a faster pass with. Texts are parsed before the timed loop.
  profile: {
    name: 'text profile pass alone',
    run: async (file) => {
      await import('../src/data/filters/filter-config.js'); // the rule modules set the word tables
      const {profileText} = await import('../src/data/filters/text-profile.js');
      const texts = readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => (JSON.parse(line) as {text: string}).text);
      let chars = 0;
      for (const text of texts) chars += text.length;
      const cpu0 = process.cpuUsage();
      for (const text of texts) profileText(text);
      const cpu = process.cpuUsage(cpu0);
      return {docs: texts.length, nsPerChar: ((cpu.user + cpu.system) * 1000) / chars};
    },
  },
  augment: {
    name: 'augment (EDA, 4 per row)',
    run: async (file, out) => {
      const {runAugment} = await import('../src/data/augment.js');
      const r = await runAugment({input: file, output: out});
      return {docs: r.io.read};
    },
  },
};

/** Of the rejected rows, how many were injected copies (by id) — and whether any original was removed. */
async function rejectedRecall(path: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {exact_copies: 0, near_copies: 0, originals: 0};
  if (!existsSync(path)) return counts;
  for await (const line of createInterface({input: createReadStream(path)})) {
    const id = (JSON.parse(line) as {id: string}).id;
    if (id.includes(':exact-of:')) counts.exact_copies!++;
    else if (id.includes(':near-of:')) counts.near_copies!++;
    else counts.originals!++;
  }
  rmSync(path);
  return counts;
}

// ---- child: run one step on one file, print one JSON line ----
if (process.argv.includes('--child')) {
  const step = STEPS[process.argv[process.argv.indexOf('--child') + 1]!]!;
  const file = process.argv[process.argv.indexOf('--file') + 1]!;
  const out = join(DIR, `out-${process.pid}.jsonl`);
  // Warm-up on the first rows: module loading (through tsx) and JIT are not throughput. TurboFan
  // recompiles the per-character loops (the text profile, the hashes) each time a row takes a branch
  // it had not seen (`node --trace-opt`: the profile loop four times, 55-150 ms of CPU each, on a
  // compiler thread that process.cpuUsage counts) over the first few thousand rows, not the first 500.
  const warm = join(DIR, `warm-${process.pid}.jsonl`);
  const head = Buffer.alloc(4 << 20);
  const fd = openSync(file, 'r');
  const got = readSync(fd, head, 0, head.length, 0);
  closeSync(fd);
  writeFileSync(
    warm,
    head.subarray(0, got).toString('utf8').split('\n').slice(0, -1).slice(0, 4000).join('\n'),
  );
  await step.run(warm, `${out}.warm`);
  rmSync(warm);
  rmSync(`${out}.warm`, {force: true});
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const result = await step.run(file, out);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  rmSync(out, {force: true});
  process.stdout.write(
    `${JSON.stringify({...result, seconds, cpuSeconds, peakRssMb: process.resourceUsage().maxRSS / 1024})}\n`,
  );
  process.exit(0);
}

// ---- parent: build corpora, run each row in a child process ----
interface Corpus {
  file: string;
  mb: number;
  exact: number;
  near: number;
}

async function buildCorpus(mb: number, limitDocs = Number.POSITIVE_INFINITY): Promise<Corpus> {
  mkdirSync(DIR, {recursive: true});
  const file = join(DIR, `corpus-${mb}mb${Number.isFinite(limitDocs) ? `-${limitDocs}` : ''}.jsonl`);
  const meta = `${file}.meta.json`;
  if (existsSync(file) && existsSync(meta)) return JSON.parse(readFileSync(meta, 'utf8')) as Corpus;
  const sentences: string[] = [];
  for (const f of ['imdb/reviews.jsonl', 'imdb/test.jsonl', 'reuters/news.jsonl', 'text/sotu.jsonl']) {
    for (const line of readFileSync(join(ROOT, 'fixtures', f), 'utf8').split('\n')) {
      if (!line) continue;
      const text = (JSON.parse(line) as {text: string}).text.replace(/<br \/>/g, ' ');
      for (const s of text.split(/(?<=[.!?])\s+/)) if (s.length > 20) sentences.push(s);
    }
  }
  const rand = seeded(mb);
  const recent: string[] = []; // a window of earlier docs to copy from (bounded memory)
  const out = createWriteStream(file);
  let bytes = 0;
  let n = 0;
  const counts = {exact: 0, near: 0};
  const write = async (id: string, text: string) => {
    const line = `${JSON.stringify({id, text, label: rand() < 0.5 ? 'pos' : 'neg'})}\n`;
    bytes += Buffer.byteLength(line);
    if (!out.write(line)) await new Promise<void>((ok) => out.once('drain', () => ok()));
  };
  while (bytes < mb * 1e6 && n < limitDocs) {
    const i = n++;
    const r = rand();
    if (r < EXACT_RATE && recent.length > 0) {
      const k = Math.floor(rand() * recent.length);
      await write(`bench:${i}:exact-of:${k}`, recent[k]!);
      counts.exact++;
    } else if (r < EXACT_RATE + NEAR_RATE && recent.length > 0) {
      const k = Math.floor(rand() * recent.length);
      if (recent[k]!.split(' ').length < 100) continue;
      await write(`bench:${i}:near-of:${k}`, nearCopy(recent[k]!, 0.01, rand));
      counts.near++;
    } else {
      const parts: string[] = [];
      const want = 4 + Math.floor(rand() * 10);
      for (let s = 0; s < want; s++) parts.push(sentences[Math.floor(rand() * sentences.length)]!);
      const text = parts.join(' ');
      await write(`bench:${i}`, text);
      if (recent.length < 20_000) recent.push(text);
      else recent[Math.floor(rand() * recent.length)] = text;
    }
  }
  await new Promise<void>((ok) => out.end(() => ok()));
  const corpus: Corpus = {file, mb: statSync(file).size / 1e6, ...counts};
  await import('node:fs/promises').then((fs) => fs.writeFile(meta, JSON.stringify(corpus)));
  return corpus;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * The floor of live memory over the last quarter of the input: the least of its samples. Rows in
 * flight come and go (Buffers waiting to be written lift a sample by up to 16 MB); what every
 * sample holds is what stays, and a row kept per document lifts it with the input.
 */
function liveFloor({atMb, inputMb, mb}: Live): number {
  return Math.min(...mb.filter((_, i) => atMb[i]! >= 0.75 * inputMb));
}

function runChild(step: string, corpus: Corpus): Row {
  const gc = step === 'memory' ? ['--expose-gc'] : [];
  const args = [
    ...process.execArgv,
    ...gc,
    fileURLToPath(import.meta.url),
    '--child',
    step,
    '--file',
    corpus.file,
  ];
  const r = spawnSync(process.execPath, args, {encoding: 'utf8', maxBuffer: 1 << 24});
  if (r.status !== 0) throw new Error(`${step}: ${r.stderr}`);
  const m = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
    docs: number;
    seconds: number;
    cpuSeconds: number;
    peakRssMb: number;
    removed?: Record<string, number>;
    stateBytesPerDoc?: number;
    workerPeakRssMb?: number;
    stateMbPerWorker?: number;
    stageSeconds?: Record<string, number>;
    nsPerChar?: number;
    live?: Live;
  };
  if (m.stageSeconds && !wantsJson) {
    const times = Object.entries(m.stageSeconds).map(([k, v]) => `${k} ${v.toFixed(1)} s`);
    process.stderr.write(`${STEPS[step]!.name}, slowest part of each stage: ${times.join(', ')}\n`);
  }
  const row: Row = {
    step: STEPS[step]!.name,
    input_mb: Number(corpus.mb.toFixed(1)),
    docs: m.docs,
    docs_per_s: Math.round(m.docs / m.seconds),
    mb_per_s: corpus.mb / m.seconds,
    // Per core: input over the CPU time the process used (all its threads). On a busy machine the
    // wall-clock rate drops with the CPU share the process gets; this one does not.
    mb_per_cpu_s: corpus.mb / m.cpuSeconds,
    peak_rss_mb: Math.round(m.peakRssMb),
    state_b_per_doc: m.stateBytesPerDoc ?? null,
  };
  if (m.nsPerChar !== undefined) row.ns_per_char = Number(m.nsPerChar.toFixed(2));
  if (m.live) {
    row.live_mb = Number(median(m.live.mb).toFixed(1));
    row.live_floor_mb = Number(liveFloor(m.live).toFixed(1));
    if (!wantsJson)
      process.stderr.write(
        `${row.step} at ${row.input_mb} MB: live MB ${m.live.mb.map((v) => v.toFixed(1)).join(' ')}\n`,
      );
  }
  if (m.workerPeakRssMb !== undefined) {
    // Workers are separate processes: the wall rate is the pipeline's, the RSS the largest worker's.
    row.mb_per_cpu_s = null;
    row.peak_rss_mb = Math.round(m.workerPeakRssMb);
    row.state_mb_per_worker = Number(m.stateMbPerWorker!.toFixed(2));
  }
  if (
    m.removed &&
    (step === 'exact' || step === 'exact+filters' || step === 'clean' || step.startsWith('staged'))
  ) {
    row.exact_recall = m.removed.exact_copies! / corpus.exact;
  }
  if (m.removed && (step === 'near' || step === 'clean' || step.startsWith('staged'))) {
    row.near_recall = m.removed.near_copies! / corpus.near;
  }
  if (m.removed && step !== 'web' && step !== 'filters' && step !== 'io')
    row.originals_removed = m.removed.originals!;
  return row;
}

const mb = arg('--mb', 64);
// --only a,b: just these rows (the bars of the rows left out are not printed).
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt === -1 ? [] : process.argv[onlyAt + 1]!.split(',');
const big = await buildCorpus(mb);
const huge = await buildCorpus(4 * mb); // memory rows only: RSS at 4x the input
const augmentSlice = await buildCorpus(4, 2000);
// The staged rows compare wall time at 1 and 2 workers on a larger input (issue 22: ~100 MB).
const stagedCorpus = await buildCorpus(arg('--staged-mb', 100));
if (!wantsJson) {
  process.stderr.write(
    `corpus ${big.file}: ${big.mb.toFixed(1)} MB, ${big.exact} exact + ${big.near} near copies\n`,
  );
}
const rows: Row[] = [];
for (const [step, corpus] of [
  ['io', big],
  ['io', huge],
  ['memory', big],
  ['memory', huge],
  ['exact', big],
  ['filters', big],
  ['exact+filters', big],
  ['near', big],
  ['near', huge],
  ['clean', big],
  ['web', big],
  ['profile', big],
  ['augment', augmentSlice],
  ['staged-1', stagedCorpus],
  ['staged-2', stagedCorpus],
] as const) {
  if (only.length === 0 || only.includes(step)) rows.push(runChild(step, corpus));
}
printRows(rows);

const find = (step: string, corpus: Corpus) =>
  rows.find((r) => r.step === STEPS[step]!.name && r.input_mb === Number(corpus.mb.toFixed(1)))!;
const num = (row: Row, key: string) => row[key] as number;
const has = (step: string) => rows.some((r) => r.step === STEPS[step]!.name);
if (has('staged-1') && has('staged-2')) {
  const [s1, s2] = [find('staged-1', stagedCorpus), find('staged-2', stagedCorpus)];
  const ratio = num(s2, 'state_mb_per_worker') / num(s1, 'state_mb_per_worker');
  printBar(
    'staged clean: dedup state per worker falls as 1/n (2 workers: <= 0.6 of 1)',
    ratio <= 0.6,
    `${num(s1, 'state_mb_per_worker')} MB at 1 worker, ${num(s2, 'state_mb_per_worker')} MB at 2 (x${ratio.toFixed(2)}); ` +
      `largest worker RSS ${num(s1, 'peak_rss_mb')} / ${num(s2, 'peak_rss_mb')} MB; ${num(s1, 'mb_per_s').toFixed(1)} / ${num(s2, 'mb_per_s').toFixed(1)} MB/s wall`,
  );
  // Single-process clean keeps the same rows (test/data/stages/sharded-clean.test.ts); here the two
  // worker counts must remove the same copies.
  printBar(
    'staged clean removes the same copies at 1 and 2 workers',
    s1.exact_recall === s2.exact_recall && s1.near_recall === s2.near_recall,
    `exact recall ${s1.exact_recall} / ${s2.exact_recall}, near recall ${s1.near_recall} / ${s2.near_recall}`,
  );
  // Each shard reads only its byte range; on 2 cores shared with other work the gain is bounded.
  const speedup = num(s2, 'mb_per_s') / num(s1, 'mb_per_s');
  printBar(
    'staged clean: 2 workers faster than 1 (wall clock)',
    speedup > 1,
    `${speedup.toFixed(2)}x on ${stagedCorpus.mb.toFixed(0)} MB (${num(s1, 'mb_per_s').toFixed(1)} -> ${num(s2, 'mb_per_s').toFixed(1)} MB/s)`,
  );
}
if (has('memory')) {
  const [m1, m4] = [find('memory', big), find('memory', huge)];
  const growth = num(m4, 'live_floor_mb') - num(m1, 'live_floor_mb');
  printBar(
    `streaming memory independent of input size (live floor after GC grows <= ${LIVE_TOLERANCE_MB} MB from ${m1.input_mb} to ${m4.input_mb} MB in)`,
    growth <= LIVE_TOLERANCE_MB,
    `${num(m1, 'live_floor_mb')} MB at ${m1.input_mb} MB in, ${num(m4, 'live_floor_mb')} MB at ${m4.input_mb} MB (${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MB)`,
  );
}
if (!has('exact+filters') || !has('near') || !has('io')) process.exit(0);
const ef = find('exact+filters', big);
const near = find('near', big);
// The targets are per core: judged on input MB per CPU-second of the process (all its threads), which
// a busy machine does not lower, with the wall-clock rate alongside.
const rate = (row: Row) =>
  `${num(row, 'mb_per_cpu_s').toFixed(1)} MB per CPU-second (${num(row, 'mb_per_s').toFixed(1)} MB/s wall)`;
printBar('exact dedup + default filters >= 50 MB/s on one core', num(ef, 'mb_per_cpu_s') >= 50, rate(ef));
printBar('MinHash LSH near dedup >= 10 MB/s on one core', num(near, 'mb_per_cpu_s') >= 10, rate(near));
const [io1, io4, near1, near4] = [find('io', big), find('io', huge), near, find('near', huge)];
// Near dedup's RSS above streaming alone, per document, at both sizes: constant = only the state grows.
const perDoc = (n: Row, io: Row) =>
  ((num(n, 'peak_rss_mb') - num(io, 'peak_rss_mb')) * 2 ** 20) / num(n, 'docs');
printBar(
  'near dedup peak RSS above streaming grows only with the dedup state',
  perDoc(near4, io4) < 2 * num(near4, 'state_b_per_doc'),
  `streaming ${num(io1, 'peak_rss_mb')} MB at ${io1.input_mb} MB in, ${num(io4, 'peak_rss_mb')} MB at ${io4.input_mb} MB; ` +
    `near dedup adds ${Math.round(perDoc(near1, io1))} / ${Math.round(perDoc(near4, io4))} B per doc (state ${num(near4, 'state_b_per_doc')} B/doc)`,
);
printBar(
  'near copies found (recall >= 0.95), no original removed',
  num(near, 'near_recall') >= 0.95 && near.originals_removed === 0,
  `recall ${num(near, 'near_recall').toFixed(3)}, originals removed ${near.originals_removed}`,
);
