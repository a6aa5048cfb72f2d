import {existsSync} from 'node:fs';
import {mkdir, readFile} from 'node:fs/promises';
import {join, resolve} from 'node:path';
import {ConfigError} from '../../errors.js';
import {OutputFile} from '../../fs/output-file.js';
import type {DedupMode} from '../dedup/dedup-step.js';
import {type LshParams, optimalLshParams} from '../dedup/lsh-params.js';
import {estimateMargin} from '../dedup/near-dedup.js';
import {DEFAULT_NORMALIZE, type NormalizeOptions} from '../dedup/normalize.js';
import {type FilterConfig, loadFilterConfig} from '../filters/filter-config.js';
import {type DataFormat, type DocSep, type FieldNames, resolveFormat} from '../io/format.js';
import type {OnError} from '../io/read-docs.js';
import {type ByteRange, lineAlignedRanges, type ShardSpec} from '../io/shard.js';

/** What every stage of a sharded clean must agree on, written once to `<work>/plan.json`. */
export interface StagePlan {
  /** The input file (absolute: workers may start elsewhere). */
  input: string;
  format?: DataFormat | string;
  docSep?: DocSep;
  fields: FieldNames;
  onError?: OnError;
  /** Shards (= partitions of every stage). */
  shards: number;
  /**
   * JSONL and one-per-line text: shard i is the lines of byte range i (line-aligned, about equal
   * bytes), and its workers read only that range. Other formats: rows round robin by ordinal.
   */
  ranges?: ByteRange[];
  filters: FilterConfig;
  normalize: Required<NormalizeOptions>;
  dedup: DedupMode;
  threshold: number;
  numPerm: number;
  falseNegativeWeight: number;
  ngram: number;
  seed: number;
  lsh: LshParams;
  /** Signature estimates this far under the threshold are rejected without an exact check. */
  estimateMargin: number;
}

export interface PlanOptions {
  input: string;
  work: string;
  shards: number;
  format?: DataFormat | string;
  docSep?: DocSep;
  fields?: FieldNames;
  onError?: OnError;
  /** `default`, `web`, `none`, a config file, or a parsed config. Default `default`. */
  filters?: string | FilterConfig;
  stripHtml?: boolean;
  normalize?: NormalizeOptions;
  dedup?: DedupMode;
  nearThreshold?: number;
  numPerm?: number;
  falseNegativeWeight?: number;
}

export const PLAN_FILE = 'plan.json';

/** The plan of the options, as `clean` would run them (same defaults). */
export function makePlan(options: PlanOptions): StagePlan {
  const loaded =
    typeof options.filters === 'object' ? options.filters : loadFilterConfig(options.filters ?? 'default');
  const filters: FilterConfig = {
    ...loaded,
    stripHtml: options.stripHtml ?? loaded.stripHtml,
    normalize: {...loaded.normalize, ...options.normalize},
  };
  const threshold = options.nearThreshold ?? 0.7;
  const numPerm = options.numPerm ?? 128;
  const falseNegativeWeight = options.falseNegativeWeight ?? 0.9;
  return {
    input: resolve(options.input),
    format: options.format,
    docSep: options.docSep,
    fields: options.fields ?? {},
    onError: options.onError,
    shards: options.shards,
    filters,
    normalize: {...DEFAULT_NORMALIZE, ...filters.normalize},
    dedup: options.dedup ?? 'both',
    threshold,
    numPerm,
    falseNegativeWeight,
    ngram: 5,
    seed: 1,
    lsh: optimalLshParams(threshold, numPerm, {
      falsePositive: 1 - falseNegativeWeight,
      falseNegative: falseNegativeWeight,
    }),
    estimateMargin: estimateMargin(threshold, numPerm),
  };
}

/**
 * Stage `plan`: writes `<work>/plan.json`. Run once before the shards; running it again with the
 * same options is a no-op, with other options an error (the work folder belongs to one plan).
 */
export async function writePlan(options: PlanOptions): Promise<StagePlan> {
  const plan = makePlan(options);
  const format = resolveFormat(plan.input, plan.format);
  if (format === 'jsonl' || (format === 'txt' && (plan.docSep ?? 'line') === 'line'))
    plan.ranges = await lineAlignedRanges(plan.input, plan.shards);
  await mkdir(options.work, {recursive: true});
  const path = join(options.work, PLAN_FILE);
  const old = await readFile(path, 'utf8').catch(() => undefined);
  const text = `${JSON.stringify(plan, null, 2)}\n`;
  if (old !== undefined) {
    if (old !== text) {
      throw new ConfigError(
        `${path} holds another plan (other input, shards or options)`,
        'use a new --work folder, or delete this one to start over',
      );
    }
    return plan;
  }
  const file = await OutputFile.open(path, [plan.input]);
  file.stream.write(text);
  await file.commit();
  return plan;
}

/** Reads `<work>/plan.json`. */
export async function readPlan(work: string): Promise<StagePlan> {
  const path = join(work, PLAN_FILE);
  const text = await readFile(path, 'utf8').catch(() => {
    throw new ConfigError(`${path}: no plan`, 'run `clean stage plan` with --work first');
  });
  return JSON.parse(text) as StagePlan;
}

/** The rows of shard `part`: its byte range when the plan has ranges, else every shards-th row. */
export function shardOf(plan: StagePlan, part: number): ShardSpec {
  return {index: part, count: plan.shards, bytes: plan.ranges?.[part]};
}

/** A stage's partition index must be one of the plan's shards. */
export function checkPart(plan: StagePlan, part: number, stage: string): void {
  if (!(Number.isInteger(part) && part >= 0 && part < plan.shards)) {
    throw new ConfigError(
      `stage ${stage}: part ${part} is not in 0..${plan.shards - 1}`,
      `the plan has ${plan.shards} shards: pass --shard i/${plan.shards}`,
    );
  }
}

/** Paths of the work folder. */
export const workPaths = (work: string) => ({
  sign: (i: number) => join(work, 'sign', `sign-${i}.bin`),
  spool: (i: number) => join(work, 'sign', `sign-${i}.spool`),
  exact: (p: number) => join(work, 'exact', `exact-${p}.bin`),
  pairs: (p: number) => join(work, 'buckets', `pairs-${p}.bin`),
  edges: (p: number) => join(work, 'verify', `edges-${p}.bin`),
  near: join(work, 'near.bin'),
  kept: (i: number, ext: string) => join(work, 'out', `kept-${i}.${ext}`),
  rejected: (i: number) => join(work, 'out', `rejected-${i}.jsonl`),
  report: (i: number) => join(work, 'out', `report-${i}.json`),
});

/**
 * The start of every stage: the plan, the part checked against it, and whether the stage's output
 * (`output`, the file it writes last) exists already — then, unless `force`, there is nothing to do.
 */
export async function startStage(
  work: string,
  stage: string,
  part: number,
  output: (paths: ReturnType<typeof workPaths>) => string,
  force = false,
): Promise<{plan: StagePlan; paths: ReturnType<typeof workPaths>; done: boolean}> {
  const plan = await readPlan(work);
  checkPart(plan, part, stage);
  const paths = workPaths(work);
  return {plan, paths, done: !force && existsSync(output(paths))};
}

/** What a stage that had nothing to do returns. */
export const doneBefore = (stage: string, part: number) => ({
  stage,
  part,
  ran: false,
  records: 0,
  stateBytes: 0,
  seconds: 0,
});
