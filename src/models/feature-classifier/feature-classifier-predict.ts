import type {Readable, Writable} from 'node:stream';
import {stringify} from 'csv-stringify/sync';
import {resolveFormat} from '../../data/io/format.js';
import {writeFileAtomic} from '../../run/run-folder.js';
import {argmaxRows} from '../classify/classification-metrics.js';
import {classifyFeatures} from './feature-classifier.js';
import type {FeatureClassifierRun} from './feature-classifier-run.js';
import {featureVector, readRecords, type SourceRecord} from './feature-data.js';

export interface PredictFeaturesOptions {
  input: string | Readable;
  output: string | Writable;
  format?: string;
  outFormat?: string;
  batchSize?: number;
  onRows?: (rows: number) => void;
}

/**
 * Each input row with `label` set to the predicted class and `probabilities` ({class: p}); the row's
 * own label (the run's label field) moves to `input_label`. Rows need every feature column the run
 * was trained on, as numbers: a missing or non-numeric cell is a DatasetError naming row and column.
 */
export async function predictFeatureRows(
  run: FeatureClassifierRun,
  options: PredictFeaturesOptions,
): Promise<{rows: number; labels: string[]}> {
  const {columns} = run.stats;
  const source = typeof options.input === 'string' ? options.input : 'stdin';
  const outFormat = resolveFormat(
    typeof options.output === 'string' ? options.output : undefined,
    options.outFormat,
  );
  const delimiter = outFormat === 'tsv' ? '\t' : ',';
  const batchSize = options.batchSize ?? 256;
  const chunks: string[] = [];
  let header: string[] | undefined;
  let done = 0;
  const emit = async (text: string) => {
    if (typeof options.output === 'string') chunks.push(text);
    else if (!options.output.write(text))
      await new Promise((r) => (options.output as Writable).once('drain', r));
  };
  const flush = async (batch: SourceRecord[]) => {
    const x = new Float32Array(batch.length * columns.length);
    for (const [i, rec] of batch.entries()) featureVector(rec, columns, source, x, i * columns.length);
    const k = run.labels.length;
    const probs = await classifyFeatures(run, x, options.batchSize);
    const best = argmaxRows(probs, k);
    const lines: string[] = [];
    for (const [i, {record}] of batch.entries()) {
      const {[run.labelField]: given, ...rest} = record;
      const row: Record<string, unknown> = given === undefined ? {...rest} : {input_label: given, ...rest};
      row.label = run.labels[best[i]!];
      row.probabilities = Object.fromEntries(
        run.labels.map((l, c) => [l, Number(probs[i * k + c]!.toFixed(6))]),
      );
      if (outFormat === 'jsonl') lines.push(`${JSON.stringify(row)}\n`);
      else {
        if (!header) {
          header = Object.keys(row);
          lines.push(stringify([header], {delimiter}));
        }
        const cells = header.map((key) => {
          const v = row[key];
          return v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
        });
        lines.push(stringify([cells], {delimiter}));
      }
    }
    await emit(lines.join(''));
    done += batch.length;
    options.onRows?.(done);
  };
  let batch: SourceRecord[] = [];
  for await (const rec of readRecords(options.input, options.format)) {
    batch.push(rec);
    if (batch.length >= batchSize) {
      await flush(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await flush(batch);
  if (typeof options.output === 'string') await writeFileAtomic(options.output, chunks.join(''));
  return {rows: done, labels: run.labels};
}
