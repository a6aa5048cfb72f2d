import {existsSync} from 'node:fs';
import {readFile} from 'node:fs/promises';
import {ConfigError} from '../../errors.js';
import {OutputFile} from '../../fs/output-file.js';
import {Cleaner} from '../cleaner.js';
import {type Doc, drop, KEEP, type Verdict} from '../doc.js';
import {resolveFormat} from '../io/format.js';
import {inShard} from '../io/shard.js';
import {runDataStep} from '../run-data-step.js';
import {readExactDuplicates} from './exact-stage.js';
import {RecordReader, RecordWriter} from './record-file.js';
import {readNearDuplicates} from './resolve-stage.js';
import {SignFiles} from './sign-files.js';
import {readSignRecord, type StageResult, signStride} from './sign-stage.js';
import {checkPart, readPlan, shardOf, workPaths} from './stage-plan.js';

/** What the write stage of one shard did: rows in and out, drops by reason. */
export interface ShardCleanReport {
  shard: number;
  rowsIn: number;
  rowsOut: number;
  dropped: Record<string, number>;
  /** The shard's kept rows, rejected rows (with drop_reason, drop_detail) and kept ordinals. */
  kept: string;
  rejected: string;
  ordinals: string;
}

/**
 * Stage 6, per shard: reads shard `part` again and writes the rows it keeps to
 * `<work>/out/kept-<part>.<ext>` and the others, with `drop_reason` and `drop_detail` as `clean
 * --rejected` writes them, to `rejected-<part>.jsonl`; `kept-<part>.ord` lists the kept rows'
 * ordinals, so `clean --workers` can put the shards back in input order. A row dropped by a rule
 * is checked again for its reason's detail (junk is rare); kept rows only get the text fixes.
 */
export async function writeStage(
  work: string,
  part: number,
  options: {force?: boolean} = {},
): Promise<StageResult & {report: ShardCleanReport}> {
  const started = performance.now();
  const plan = await readPlan(work);
  checkPart(plan, part, 'write');
  const paths = workPaths(work);
  const ext = resolveFormat(plan.input, plan.format);
  const reportPath = paths.report(part);
  if (!options.force && existsSync(reportPath)) {
    const report = JSON.parse(await readFile(reportPath, 'utf8')) as ShardCleanReport;
    return {stage: 'write', part, ran: false, records: 0, stateBytes: 0, seconds: 0, report};
  }
  const shard = shardOf(plan, part);
  const mine = (ordinal: number) => inShard(ordinal, shard);
  const exact = readExactDuplicates(work, plan.shards, mine);
  const near = readNearDuplicates(work);
  const files = new SignFiles(plan, work);
  const own = new RecordReader(paths.sign(part), signStride(plan));
  const ordinals = await RecordWriter.open(`${paths.kept(part, ext)}.ord`);
  const cleaner = new Cleaner({filters: plan.filters, mode: 'none'});
  const idOf = (shard: number, record: number) => files.id(shard, files.record(shard, record).record);
  const step = (doc: Doc): Verdict | readonly Doc[] => {
    const view = own.read();
    if (!view)
      throw new ConfigError(
        `${paths.sign(part)} has fewer rows than shard ${part} of the input`,
        'the input changed since it was signed: run the stages again in a new --work folder',
      );
    const r = readSignRecord(view);
    if (r.dropped) {
      const verdict = cleaner.applyRules(doc);
      return 'keep' in verdict
        ? verdict
        : drop('unknown', 'the rules now keep this row: the filters changed since it was signed');
    }
    const first = exact.get(r.ordinal);
    if (first) {
      const target = near.get(first.first) ?? {shard: first.shard, record: first.record};
      return drop('exact_duplicate', idOf(target.shard, target.record));
    }
    const dup = near.get(r.ordinal);
    if (dup) return drop('near_duplicate', idOf(dup.shard, dup.record));
    const fixed = cleaner.applyFixes(doc);
    ordinalQueue.push(r.ordinal);
    return fixed === doc ? KEEP : [fixed];
  };
  const ordinalQueue: number[] = [];
  try {
    const stats = await runDataStep(
      {
        apply: step,
        // The kept rows' ordinals, a batch at a time, as the runner writes them.
        applyBatch: async (docs) => {
          const outs = docs.map(step);
          for (const o of ordinalQueue) (await ordinals.reserve(8)).setFloat64(0, o, true);
          ordinalQueue.length = 0;
          return outs;
        },
      },
      {
        input: plan.input,
        format: plan.format,
        docSep: plan.docSep,
        ...plan.fields,
        onError: plan.onError,
        shard,
        output: paths.kept(part, ext),
        rejected: paths.rejected(part),
      },
    );
    await ordinals.commit();
    const report: ShardCleanReport = {
      shard: part,
      rowsIn: stats.read,
      rowsOut: stats.written,
      dropped: stats.dropped,
      kept: paths.kept(part, ext),
      rejected: paths.rejected(part),
      ordinals: `${paths.kept(part, ext)}.ord`,
    };
    // Last: its presence says the shard's outputs are complete.
    const file = await OutputFile.open(reportPath);
    file.stream.write(JSON.stringify(report));
    await file.commit();
    return {
      stage: 'write',
      part,
      ran: true,
      records: stats.written,
      stateBytes: 0,
      seconds: (performance.now() - started) / 1000,
      report,
    };
  } catch (error) {
    await ordinals.abort();
    throw error;
  } finally {
    own.close();
    files.close();
  }
}
