import {createReadStream} from 'node:fs';
import {stat} from 'node:fs/promises';
import type {Readable} from 'node:stream';
import {type CsvError, parse as parseCsv} from 'csv-parse';
import {resolveFormat} from '../../data/io/format.js';
import {readLines} from '../../data/io/lines.js';
import type {OnError} from '../../data/io/read-docs.js';
import {hash32} from '../../data/rng.js';
import {DatasetError} from '../../errors.js';

/** One parsed row of a CSV/TSV/JSONL file, with its 1-based row number and source line. */
export interface SourceRecord {
  record: Record<string, unknown>;
  row: number;
  line: number;
}

/** Numeric feature rows: x [n × columns.length] row-major, a class name and a weight per row. */
export interface FeatureRows {
  columns: string[];
  x: Float32Array;
  labels: string[];
  weights: Float32Array;
  n: number;
}

export interface ReadFeatureOptions {
  /** Feature columns, in model input order. */
  features: readonly string[];
  /** Column holding the class. Default `label`. */
  labelField?: string;
  /** Column holding sample weights (≥ 0); rows without it weigh 1. Default `weight`. */
  weightField?: string;
  /** Malformed row: `fail` (default) throws; `skip` tells `onSkip` and leaves it out. */
  onError?: OnError;
  onSkip?: (error: DatasetError) => void;
}

/**
 * The records of a JSONL, CSV or TSV file, in order. A row that does not parse is a DatasetError
 * naming the file and line (CSV: the column count; JSONL: the JSON problem).
 */
export async function* readRecords(input: string | Readable, format?: string): AsyncGenerator<SourceRecord> {
  const file = typeof input === 'string' ? input : 'stdin';
  const kind = resolveFormat(typeof input === 'string' ? input : undefined, format);
  if (kind === 'txt') {
    throw new DatasetError(`${file}: plain text has no columns`, 'numeric features need CSV, TSV or JSONL');
  }
  let stream = input as Readable;
  if (typeof input === 'string') {
    const info = await stat(input).catch(() => undefined);
    if (!info?.isFile()) throw new DatasetError(`${input}: no such file`, 'check the data path');
    stream = createReadStream(input, {highWaterMark: 1 << 20});
  }
  try {
    let row = 0;
    if (kind === 'jsonl') {
      for await (const lines of readLines(stream, file)) {
        for (const {text, line} of lines) {
          if (text.trim() === '') continue;
          let record: unknown;
          try {
            record = JSON.parse(text);
          } catch (error) {
            throw new DatasetError(`${file} line ${line}: invalid JSON (${(error as Error).message})`);
          }
          if (record === null || typeof record !== 'object' || Array.isArray(record)) {
            throw new DatasetError(
              `${file} line ${line}: expected a JSON object`,
              'write one object per line',
            );
          }
          yield {record: record as Record<string, unknown>, row: ++row, line};
        }
      }
      return;
    }
    const parser = parseCsv({
      delimiter: kind === 'tsv' ? '\t' : ',',
      bom: true,
      skip_empty_lines: true,
      info: true,
      columns: true,
    });
    stream.pipe(parser);
    try {
      for await (const {record, info: at} of parser as AsyncIterable<{
        record: Record<string, string>;
        info: {lines: number};
      }>) {
        yield {record, row: ++row, line: at.lines};
      }
    } catch (error) {
      const e = error as CsvError;
      throw new DatasetError(
        `${file} line ${typeof e.lines === 'number' ? e.lines : '?'}: ${e.message}`,
        `check the ${kind.toUpperCase()} syntax (same number of columns on every line)`,
      );
    }
  } finally {
    if (typeof input === 'string') stream.destroy();
  }
}

/** A cell as a finite number, or undefined when it is missing, empty or not a number. */
export function numericCell(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const x = Number(value);
  return Number.isFinite(x) ? x : undefined;
}

/**
 * The feature vector of one record; a missing or non-numeric cell is a DatasetError naming the
 * file, row, line and column.
 */
export function featureVector(
  rec: SourceRecord,
  features: readonly string[],
  file: string,
  out: Float32Array,
  offset = 0,
): void {
  for (const [j, column] of features.entries()) {
    const value = rec.record[column];
    const x = numericCell(value);
    if (x === undefined) {
      const what =
        value === undefined
          ? `has no "${column}" column (columns: ${Object.keys(rec.record).join(', ')})`
          : `column "${column}" is ${JSON.stringify(value)}, not a number`;
      throw new DatasetError(
        `${file} row ${rec.row} (line ${rec.line}) ${what}`,
        value === undefined
          ? 'check --features'
          : 'fill in or drop rows with missing values (train: --on-error skip)',
      );
    }
    out[offset + j] = x;
  }
}

/** Every labeled row of `file` as numeric features; an empty file is a DatasetError. */
export async function readFeatureRows(file: string, options: ReadFeatureOptions): Promise<FeatureRows> {
  const {features} = options;
  const labelField = options.labelField ?? 'label';
  const weightField = options.weightField ?? 'weight';
  const d = features.length;
  let x = new Float32Array(1024 * d);
  const labels: string[] = [];
  const weights: number[] = [];
  for await (const rec of readRecords(file)) {
    try {
      if (x.length < (labels.length + 1) * d) {
        const grown = new Float32Array(x.length * 2);
        grown.set(x);
        x = grown;
      }
      featureVector(rec, features, file, x, labels.length * d);
      const label = rec.record[labelField];
      if (label === undefined || label === null || label === '' || typeof label === 'object') {
        throw new DatasetError(
          `${file} row ${rec.row} (line ${rec.line}): no "${labelField}" value`,
          'every training row needs a class; name its column with --label-field',
        );
      }
      const raw = rec.record[weightField];
      const weight = raw === undefined || raw === '' || raw === null ? 1 : numericCell(raw);
      if (weight === undefined || weight < 0) {
        throw new DatasetError(
          `${file} row ${rec.row} (line ${rec.line}): "${weightField}" is ${JSON.stringify(raw)}, expected a number ≥ 0`,
          'the weight column holds sample weights; name another with --weight-field',
        );
      }
      labels.push(String(label));
      weights.push(weight);
    } catch (error) {
      if (!(error instanceof DatasetError) || options.onError !== 'skip') throw error;
      options.onSkip?.(error);
    }
  }
  if (labels.length === 0) throw new DatasetError(`${file}: no rows`, 'the dataset is empty');
  return {
    columns: [...features],
    x: x.slice(0, labels.length * d),
    labels,
    weights: Float32Array.from(weights),
    n: labels.length,
  };
}

/** The rows of `data` at `indices`, in that order. */
export function pickRows(data: FeatureRows, indices: readonly number[]): FeatureRows {
  const d = data.columns.length;
  const x = new Float32Array(indices.length * d);
  for (const [i, r] of indices.entries()) x.set(data.x.subarray(r * d, (r + 1) * d), i * d);
  return {
    columns: data.columns,
    x,
    labels: indices.map((r) => data.labels[r]!),
    weights: Float32Array.from(indices, (r) => data.weights[r]!),
    n: indices.length,
  };
}

/**
 * A deterministic holdout as `holdout` makes for texts: rows whose values and label hash into the
 * last `fraction` go to validation (identical rows land on the same side, whatever the row order);
 * validation rows of a class missing from training stay in training.
 */
export function featureHoldout(data: FeatureRows, fraction = 0.1): {train: FeatureRows; val: FeatureRows} {
  const d = data.columns.length;
  const buckets = 10_000;
  const train: number[] = [];
  let val: number[] = [];
  for (let i = 0; i < data.n; i++) {
    const key = `${Array.from(data.x.subarray(i * d, (i + 1) * d)).join(',')}|${data.labels[i]}`;
    ((hash32(key, 0x5eed) % buckets) / buckets < fraction ? val : train).push(i);
  }
  const seen = new Set(train.map((i) => data.labels[i]));
  train.push(...val.filter((i) => !seen.has(data.labels[i])));
  val = val.filter((i) => seen.has(data.labels[i]));
  return {train: pickRows(data, train), val: pickRows(data, val)};
}
