import type {Readable, Writable} from 'node:stream';
import {OutputFile} from '../fs/output-file.js';
import type {ModelCheck} from './clean-model-check.js';
import {Cleaner} from './cleaner.js';
import type {DedupMode, DedupReport} from './dedup/dedup-step.js';
import type {NormalizeOptions} from './dedup/normalize.js';
import {type FilterConfig, loadFilterConfig} from './filters/filter-config.js';
import {formatInputIssues, type InputIssues} from './io/input-issues.js';
import {snakeKeys} from './json-keys.js';
import {type DataStepOptions, runDataStep} from './run-data-step.js';

export interface CleanOptions extends DataStepOptions {
  /** Exact, near, both or no dedup. Default both. */
  dedup?: DedupMode;
  /** Near-duplicate threshold: Jaccard similarity of character 5-gram sets (case folded, punctuation and whitespace runs one space). Default 0.7. */
  nearThreshold?: number;
  /** MinHash values per signature (one-permutation bins). Default 128. */
  numPerm?: number;
  /** Weight of missed near-duplicate pairs when choosing LSH bands × rows (0.5: datasketch's balance). Default 0.9. */
  falseNegativeWeight?: number;
  /** `default`, `web`, `none`, a YAML/JSON file path, or a parsed config. Default `default`. */
  filters?: string | FilterConfig;
  /** Turn `<br />` and other stray markup into plain text first (overrides the config's `strip_html`). */
  stripHtml?: boolean;
  /** Exact dedup normalization (overrides the config's `normalize`). */
  normalize?: NormalizeOptions;
  /** Path for the JSON report (written atomically, snake_case keys as `--json` prints it). */
  report?: string;
  /** Model checks on the rows rules and dedup keep (see `cleanWithModels` for loading kit runs as checks). */
  checks?: readonly ModelCheck[];
}

export interface CleanReport extends InputIssues {
  input: string;
  output: string;
  rowsIn: number;
  rowsOut: number;
  /** Dropped rows per reason: quality rules and `exact_duplicate` / `near_duplicate`. */
  dropped: Record<string, number>;
  filters: {preset: string; rules: string[]; stripHtml: boolean};
  dedup: DedupReport;
  /** The model checks that ran, with their bounds (drops are under `dropped.low_quality` / `high_perplexity`). */
  checks: {name: string; min?: number; max?: number; field?: string}[];
  seconds: number;
  megabytesPerSecond: number;
}

/**
 * Cleans a dataset in one streaming pass: quality rules, exact and near-duplicate removal; writes
 * the kept rows, the rejected rows (with reasons) and the JSON report, and returns the report.
 */
export async function cleanDataset(options: CleanOptions = {}): Promise<CleanReport> {
  const filters =
    typeof options.filters === 'object' ? options.filters : loadFilterConfig(options.filters ?? 'default');
  const config: FilterConfig = {
    ...filters,
    stripHtml: options.stripHtml ?? filters.stripHtml,
    normalize: {...filters.normalize, ...options.normalize},
  };
  const cleaner = new Cleaner({
    filters: config,
    mode: options.dedup,
    threshold: options.nearThreshold,
    numPerm: options.numPerm,
    falseNegativeWeight: options.falseNegativeWeight,
    checks: options.checks,
  });
  const reportFile = options.report
    ? await OutputFile.open(options.report, [nameOf(options.input), nameOf(options.output)].filter(isPath))
    : undefined;
  try {
    const stats = await runDataStep(cleaner, options);
    const report: CleanReport = {
      input: nameOf(options.input) ?? 'stdin',
      output: nameOf(options.output) ?? 'stdout',
      rowsIn: stats.read,
      rowsOut: stats.written,
      skipped: stats.skipped,
      skippedErrors: stats.skippedErrors,
      invalidUtf8Lines: stats.invalidUtf8Lines,
      firstInvalidUtf8: stats.firstInvalidUtf8,
      dropped: stats.dropped,
      filters: {preset: config.preset, rules: cleaner.rules, stripHtml: config.stripHtml},
      dedup: cleaner.dedupReport(),
      checks: (options.checks ?? []).map(({name, min, max, field}) => ({name, min, max, field})),
      seconds: round(stats.seconds),
      megabytesPerSecond: round(stats.bytes / 1e6 / Math.max(stats.seconds, 1e-9)),
    };
    if (reportFile) {
      reportFile.stream.write(`${JSON.stringify(snakeKeys(report), null, 2)}\n`);
      await reportFile.commit();
    }
    return report;
  } catch (error) {
    await reportFile?.abort();
    throw error;
  } finally {
    cleaner.close();
  }
}

function nameOf(io: string | Readable | Writable | undefined): string | undefined {
  return typeof io === 'string' ? io : undefined;
}

function isPath(x: string | undefined): x is string {
  return x !== undefined;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** A few lines for stderr: rows in and out, drops by reason, duplicate groups, speed and dedup memory. */
export function formatCleanSummary(report: CleanReport): string {
  const dropped = Object.entries(report.dropped).sort((a, b) => b[1] - a[1]);
  const total = dropped.reduce((n, [, c]) => n + c, 0);
  const lines = [
    `clean: ${report.rowsIn} rows in, ${report.rowsOut} out (${report.input} → ${report.output})`,
  ];
  if (total > 0) lines.push(`  dropped ${total}: ${dropped.map(([r, c]) => `${r} ${c}`).join(', ')}`);
  lines.push(...formatInputIssues(report));
  const {exact, near} = report.dedup;
  const groups = [
    exact ? `exact ${exact.clusters} groups (largest ${exact.largest[0]?.size ?? 0})` : '',
    near
      ? `near ${near.clusters} groups (bands ${near.bands}×${near.rows}, ${near.candidatesRejected} candidates under ${near.threshold})`
      : '',
  ].filter(Boolean);
  if (groups.length) lines.push(`  duplicates: ${groups.join('; ')}`);
  const checks = report.checks.map(
    (c) =>
      `${c.name} ${c.min !== undefined ? `>= ${c.min}` : `<= ${c.max}`}${c.field ? ` (scores in ${c.field})` : ''}`,
  );
  if (checks.length) lines.push(`  model checks: ${checks.join('; ')}`);
  lines.push(
    `  ${report.seconds.toFixed(2)} s, ${report.megabytesPerSecond.toFixed(1)} MB/s; dedup state ${(report.dedup.stateBytes / 1024).toFixed(0)} KiB (${report.dedup.stateBytesPerDoc} B/doc)`,
  );
  return lines.join('\n');
}
