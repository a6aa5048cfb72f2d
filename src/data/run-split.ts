import {join} from 'node:path';
import {ConfigError, printable} from '../errors.js';
import {OutputDir} from '../fs/output-dir.js';
import {resolveFormat} from './io/format.js';
import {formatInputIssues, InputIssueCounter, type InputIssues} from './io/input-issues.js';
import {readDocs} from './io/read-docs.js';
import {DocWriter} from './io/write-docs.js';
import type {DataProgress, DataStepOptions} from './run-data-step.js';
import {type SplitOptions, type SplitReport, Splitter} from './split.js';

export interface SplitRunOptions extends SplitOptions, Omit<DataStepOptions, 'output' | 'rejected'> {
  /** Folder for the split files (`train.jsonl`, `val.jsonl`, `test.jsonl`), created if missing. */
  outDir: string;
}

export interface SplitRunReport extends SplitReport, InputIssues {
  /** The file written for each split. */
  files: Record<string, string>;
  seconds: number;
}

/**
 * Streams the input once and writes each row to its split's file (temp names, renamed at the
 * end): a malformed row under `onError: 'fail'` or any other error leaves no split file behind,
 * and no --out-dir folder that this run created.
 */
export async function runSplit(options: SplitRunOptions): Promise<SplitRunReport> {
  const started = performance.now();
  const splitter = new Splitter(options);
  const bad = splitter.names.find((name) => !/^[\w][\w.-]*$/u.test(name));
  if (bad !== undefined) {
    throw new ConfigError(
      `split name "${bad}" is not a plain file name`,
      'use letters, digits, -, _ and . in --names',
    );
  }
  const input = options.input ?? process.stdin;
  const inPath = typeof input === 'string' ? input : undefined;
  const format = resolveFormat(undefined, options.outFormat, resolveFormat(inPath, options.format));
  const outDir = await OutputDir.create(options.outDir);
  const files = Object.fromEntries(
    splitter.names.map((name) => [name, join(options.outDir, `${name}.${format}`)]),
  );
  const writers: DocWriter[] = [];
  const issues = new InputIssueCounter(inPath ?? 'stdin', options.onSkip);
  try {
    for (const name of splitter.names) {
      writers.push(
        await DocWriter.open({...options, output: files[name], format, inputs: inPath ? [inPath] : []}),
      );
    }
    let bytes = 0;
    let rows = 0;
    const progress = (): DataProgress => ({read: rows, written: rows, bytes});
    const docs = readDocs({
      ...options,
      input,
      onBytes: (n) => {
        bytes = n;
      },
      onSkip: issues.onSkip,
      onInvalidUtf8: issues.onInvalidUtf8,
    });
    for await (const doc of docs) {
      await writers[splitter.assign(doc)].write(doc);
      if (++rows % 256 === 0) options.onProgress?.(progress());
    }
    for (const writer of writers) await writer.close();
    outDir.keep();
    options.onProgress?.(progress());
  } catch (error) {
    for (const writer of writers) await writer.abort();
    await outDir.discard();
    throw error;
  }
  return {
    ...splitter.report(),
    files,
    ...issues.issues,
    seconds: (performance.now() - started) / 1000,
  };
}

/** The stderr summary: rows per split with their share, file and labels. */
export function formatSplitSummary(r: SplitRunReport): string {
  const width = Math.max(...r.names.map((n) => n.length));
  const lines = [
    `split: ${r.rows} rows by a hash of their normalized text${r.stratified ? ', stratified by label' : ''}, in ${r.seconds.toFixed(1)} s`,
  ];
  for (const name of r.names) {
    const n = r.counts[name];
    const share = r.rows === 0 ? 0 : (100 * n) / r.rows;
    const labels = Object.entries(r.labels[name])
      .map(([label, count]) => `${printable(label, 40)} ${count}`)
      .join(' · ');
    lines.push(
      `  ${name.padEnd(width)}  ${String(n).padStart(7)} (${share.toFixed(1)}%)  ${r.files[name]}  ${labels}`,
    );
  }
  const orphans = r.augmentedRows - r.augmentedWithSource;
  if (r.augmentedWithSource > 0)
    lines.push(`  ${r.augmentedWithSource} augmented rows went to their source row's split`);
  if (orphans > 0) {
    lines.push(
      `  note: ${orphans} augmented rows came without their source row before them and split by their own text — split first, then augment the train split`,
    );
  }
  lines.push(...formatInputIssues(r));
  return lines.join('\n');
}
