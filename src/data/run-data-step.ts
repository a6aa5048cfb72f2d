import {stat} from 'node:fs/promises';
import type {Readable, Writable} from 'node:stream';
import type {DatasetError} from '../errors.js';
import type {Doc, Verdict} from './doc.js';
import {type DataFormat, type DocSep, type FieldNames, formatFromPath, resolveFormat} from './io/format.js';
import {InputIssueCounter, type InputIssues} from './io/input-issues.js';
import {type OnError, readDocBatches} from './io/read-docs.js';
import type {ShardSpec} from './io/shard.js';
import {DocWriter} from './io/write-docs.js';

/**
 * A data step as the runner sees it: for each document, keep it, drop it with a reason, or emit
 * other rows in its place (augment emits the original and its copies). `finish` emits rows after the
 * last input, for steps that must see everything first.
 */
export type DataStep =
  | ((doc: Doc) => Verdict | readonly Doc[])
  | {
      apply(doc: Doc): Verdict | readonly Doc[];
      /** When present, the runner hands over each batch it reads (≤ 256 rows) instead, for steps that await a model; one result per row, in order. */
      applyBatch?(docs: readonly Doc[]): Promise<readonly (Verdict | readonly Doc[])[]>;
      finish?(): Iterable<Doc> | AsyncIterable<Doc>;
    };

export interface DataStepOptions extends FieldNames {
  /** Input file, or a stream. Default `process.stdin`. */
  input?: string | Readable;
  /** Output file (temp name + rename at the end), or a stream. Default `process.stdout`. */
  output?: string | Writable;
  /** File that receives every dropped row with `drop_reason` and `drop_detail` fields. */
  rejected?: string;
  /** Input format; default from the input's extension, else JSONL. */
  format?: DataFormat | string;
  /** Output format; default from the output's extension, else the input format. */
  outFormat?: DataFormat | string;
  /** Plain text: one document per line, or blank-line separated paragraphs. Default `line`. */
  docSep?: DocSep;
  /** Malformed input rows: `fail` (default) or `skip` and count. */
  onError?: OnError;
  /** Only this shard's rows (`--shard i/n`, see `parseShard`); the others are not read into rows. */
  shard?: ShardSpec;
  /** CSV/TSV output: columns that rows after the first may add. */
  columns?: readonly string[];
  onSkip?: (error: DatasetError) => void;
  /** Called every few hundred rows and at the end. */
  onProgress?: (progress: DataProgress) => void;
}

export interface DataProgress {
  read: number;
  written: number;
  /** Input bytes consumed so far. */
  bytes: number;
  /** Input size when it is a file. */
  totalBytes?: number;
}

export interface DataStepStats extends InputIssues {
  /** Rows read (valid ones; skipped malformed rows are counted in `skipped`). */
  read: number;
  written: number;
  /** Dropped rows per reason (`dropped.too_few_words`). */
  dropped: Record<string, number>;
  bytes: number;
  seconds: number;
  /** Formats used, after defaults. */
  inFormat: DataFormat;
  outFormat: DataFormat;
}

const PROGRESS_EVERY = 256;

/**
 * The one runner of the data steps: streams rows from the input through `step` to the output,
 * counts drops per reason, writes rejected rows, and on failure leaves no partial output file.
 */
export async function runDataStep(step: DataStep, options: DataStepOptions = {}): Promise<DataStepStats> {
  const input = options.input ?? process.stdin;
  const inPath = typeof input === 'string' ? input : undefined;
  const outPath = typeof options.output === 'string' ? options.output : undefined;
  const inFormat = resolveFormat(inPath, options.format);
  const outFormat = resolveFormat(
    outPath,
    options.outFormat,
    (outPath && formatFromPath(outPath)) || inFormat,
  );
  // The step's methods are called on the step, not bound: a bound copy is a new function each run,
  // and optimized code that saw another run's copy at a call throws itself away (a deopt, then a
  // recompile of this function: ~150 ms of CPU in a second run of the bench).
  const fn = typeof step === 'function' ? step : undefined;
  const obj = typeof step === 'function' ? undefined : step;
  const inputs = inPath ? [inPath] : [];
  const started = performance.now();
  const issues = new InputIssueCounter(inPath ?? 'stdin', options.onSkip);
  const stats: DataStepStats = {
    read: 0,
    written: 0,
    dropped: {},
    ...issues.issues,
    bytes: 0,
    seconds: 0,
    inFormat,
    outFormat,
  };
  const totalBytes = inPath ? (await stat(inPath).catch(() => undefined))?.size : undefined;
  const progress = () =>
    options.onProgress?.({read: stats.read, written: stats.written, bytes: stats.bytes, totalBytes});

  const writer = await DocWriter.open({
    ...options,
    output: options.output ?? process.stdout,
    format: outFormat,
    inputs,
  });
  const rejects: DocWriter | undefined = options.rejected
    ? await DocWriter.open({
        ...options,
        output: options.rejected,
        format: undefined,
        inputs: outPath ? [...inputs, outPath] : inputs,
        columns: [...(options.columns ?? []), 'drop_reason', 'drop_detail'],
      }).catch(async (error) => {
        await writer.abort();
        throw error;
      })
    : undefined;

  try {
    const batches = readDocBatches({
      ...options,
      input,
      format: inFormat,
      onBytes: (bytes) => {
        stats.bytes = bytes;
      },
      onSkip: issues.onSkip,
      onInvalidUtf8: issues.onInvalidUtf8,
    });
    for await (const docs of batches) {
      const outs = obj?.applyBatch ? await obj.applyBatch(docs) : undefined;
      for (const [i, doc] of docs.entries()) {
        stats.read++;
        const out = outs ? outs[i]! : fn ? fn(doc) : obj!.apply(doc);
        let wait: Promise<void> | undefined;
        if (!isVerdict(out)) {
          for (const row of out) {
            const rowWait = writer.write(row);
            if (rowWait) await rowWait;
          }
          stats.written += out.length;
        } else if (out.keep) {
          wait = writer.write(doc);
          stats.written++;
        } else {
          stats.dropped[out.reason] = (stats.dropped[out.reason] ?? 0) + 1;
          wait = rejects?.write(doc, {drop_reason: out.reason, drop_detail: out.detail ?? ''});
        }
        if (wait) await wait;
        if (stats.read % PROGRESS_EVERY === 0) progress();
      }
      if (writer.closed) break; // the reader of stdout went away (`| head`): stop quietly
    }
    if (obj?.finish && !writer.closed) {
      for await (const row of obj.finish()) {
        const wait = writer.write(row);
        if (wait) await wait;
        stats.written++;
      }
    }
    await writer.close();
    await rejects?.close();
  } catch (error) {
    await writer.abort();
    await rejects?.abort();
    throw error;
  }
  Object.assign(stats, issues.issues);
  stats.seconds = (performance.now() - started) / 1000;
  progress();
  return stats;
}

function isVerdict(out: Verdict | readonly Doc[]): out is Verdict {
  return !Array.isArray(out);
}
