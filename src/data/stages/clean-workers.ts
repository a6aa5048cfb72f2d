import {spawn} from 'node:child_process';
import {mkdtemp, rm, stat} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {ConfigError} from '../../errors.js';
import type {Doc} from '../doc.js';
import {readDocs} from '../io/read-docs.js';
import {DocWriter} from '../io/write-docs.js';
import {RecordReader} from './record-file.js';
import type {StageResult} from './sign-stage.js';
import {type PlanOptions, writePlan} from './stage-plan.js';
import {STAGES, type StageName} from './stages.js';
import type {ShardCleanReport} from './write-stage.js';

export interface CleanWorkersOptions extends Omit<PlanOptions, 'shards' | 'work'> {
  /** Local worker processes; also the number of shards and partitions. */
  workers: number;
  /** Output file (kept rows, in input order). */
  output: string;
  /** File for the dropped rows (shard by shard), with drop_reason and drop_detail. */
  rejected?: string;
  /** Work folder for the stage files; default a temporary one, removed at the end. */
  work?: string;
  /**
   * Starts one stage in a new process and resolves with its result. Default: `spawnStageProcess`,
   * under the running Node.
   */
  spawnStage?: (name: StageName, work: string, part: number, shards: number) => Promise<StageResult>;
  onStage?: (result: StageResult) => void;
}

export interface CleanWorkersReport {
  input: string;
  output: string;
  workers: number;
  rowsIn: number;
  rowsOut: number;
  dropped: Record<string, number>;
  /** Each stage run: seconds, records and in-memory state of every part. */
  stages: StageResult[];
  seconds: number;
  megabytesPerSecond: number;
}

// Run from the TypeScript sources (tsx: tests, benchmarks, bin/dev.js), the workers run the sources
// too, under tsx, rather than a dist/ that may be missing or older.
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER = fileURLToPath(new URL(`./stage-worker.${FROM_SOURCE ? 'ts' : 'js'}`, import.meta.url));
const NODE_ARGS = FROM_SOURCE ? ['--import', import.meta.resolve('tsx')] : [];

/** The default `spawnStage`: one process per stage and part (stage-worker.ts: the stage without the CLI around it). */
export function spawnStageProcess(name: StageName, work: string, part: number): Promise<StageResult> {
  const args = [...NODE_ARGS, WORKER, name, work, String(part)];
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, args, {stdio: ['ignore', 'pipe', 'pipe']});
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => {
      stdout += c;
    });
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    child.on('error', fail);
    child.on('close', (code) => {
      if (code === 0) done(JSON.parse(stdout) as StageResult);
      else
        fail(
          new ConfigError(
            `clean stage ${name}, part ${part}, failed (exit ${code}): ${stderr.trim().split('\n').pop()}`,
          ),
        );
    });
  });
}

/**
 * `clean --workers N`: the sharded stages (sign, exact, buckets, verify per shard; resolve once;
 * write per shard) with N local processes at a time, then the shards' kept rows merged back into
 * input order. Keeps exactly the rows single-process `clean` keeps, with the same drop reasons.
 */
export async function cleanWithWorkers(options: CleanWorkersOptions): Promise<CleanWorkersReport> {
  const started = performance.now();
  const n = options.workers;
  const work = options.work ?? (await mkdtemp(join(tmpdir(), 'deepseek-kit-clean-')));
  const spawnStage = options.spawnStage ?? spawnStageProcess;
  const stages: StageResult[] = [];
  try {
    await writePlan({...options, shards: n, work});
    for (const name of STAGES) {
      const parts = name === 'resolve' ? [0] : Array.from({length: n}, (_, i) => i);
      const results = await Promise.all(parts.map((part) => spawnStage(name, work, part, n)));
      for (const r of results) options.onStage?.(r);
      stages.push(...results);
    }
    const reports = stages.filter((s) => s.stage === 'write') as (StageResult & {report: ShardCleanReport})[];
    const shardReports = reports.map((r) => r.report).sort((a, b) => a.shard - b.shard);
    await mergeInOrder(shardReports, options.output, [options.input]);
    if (options.rejected)
      await concatenate(
        shardReports.map((r) => r.rejected),
        options.rejected,
        [options.input],
      );
    const dropped: Record<string, number> = {};
    for (const r of shardReports)
      for (const [k, v] of Object.entries(r.dropped)) dropped[k] = (dropped[k] ?? 0) + v;
    const seconds = (performance.now() - started) / 1000;
    const {size} = await stat(options.input);
    return {
      input: options.input,
      output: options.output,
      workers: n,
      rowsIn: shardReports.reduce((s, r) => s + r.rowsIn, 0),
      rowsOut: shardReports.reduce((s, r) => s + r.rowsOut, 0),
      dropped,
      stages: stages.map(({report: _r, ...s}: StageResult & {report?: unknown}) => s),
      seconds,
      megabytesPerSecond: size / 1e6 / seconds,
    };
  } finally {
    if (!options.work) await rm(work, {recursive: true, force: true});
  }
}

/** The shards' kept rows, in input order (by the ordinals each write stage listed). */
async function mergeInOrder(shards: ShardCleanReport[], output: string, inputs: string[]): Promise<void> {
  const writer = await DocWriter.open({output, inputs});
  try {
    const heads = shards.map((s) => ({
      docs: readDocs({input: s.kept})[Symbol.asyncIterator](),
      ords: new RecordReader(s.ordinals, 8),
      doc: undefined as Doc | undefined,
      ordinal: Number.POSITIVE_INFINITY,
    }));
    const advance = async (h: (typeof heads)[number]) => {
      const v = h.ords.read();
      const next = await h.docs.next();
      h.doc = next.done ? undefined : next.value;
      h.ordinal = v && h.doc ? v.getFloat64(0, true) : Number.POSITIVE_INFINITY;
    };
    for (const h of heads) await advance(h);
    for (;;) {
      let best = heads[0];
      for (const h of heads) if (h.ordinal < best!.ordinal) best = h;
      if (!best || best.ordinal === Number.POSITIVE_INFINITY) break;
      const wait = writer.write(best.doc!);
      if (wait) await wait;
      await advance(best);
    }
    for (const h of heads) h.ords.close();
    await writer.close();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

async function concatenate(files: string[], output: string, inputs: string[]): Promise<void> {
  const writer = await DocWriter.open({output, inputs});
  try {
    for (const file of files) {
      for await (const doc of readDocs({input: file})) {
        const wait = writer.write(doc);
        if (wait) await wait;
      }
    }
    await writer.close();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}
