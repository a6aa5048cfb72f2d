import type {Readable, Writable} from 'node:stream';
import type {Doc} from '../data/doc.js';
import {readDocBatches} from '../data/io/read-docs.js';
import {writeDocs} from '../data/io/write-docs.js';
import {ModelError} from '../errors.js';
import {predictFeatureRows} from '../models/feature-classifier/feature-classifier-predict.js';
import {asFeatureClassifierRun, isFeatureRun} from '../models/feature-classifier/feature-classifier-run.js';
import {argmaxRows, asClassifierRun, classifyTexts} from '../models/text-classifier/classifier-run.js';
import {loadRun} from '../run/run-folder.js';

export interface PredictRunOptions {
  /** Run folder (runs/NAME) of a classifier (text, or numeric features: CSV/TSV/JSONL rows with its columns). */
  model: string;
  /** Rows to classify: a file or a stream (stdin). */
  input: string | Readable;
  /** Where to write the rows with their predictions: a file (written atomically) or a stream. */
  output: string | Writable;
  format?: string;
  outFormat?: string;
  textField?: string;
  /** Examples per forward pass. Default 64. */
  batchSize?: number;
  /** Told the number of rows done so far. */
  onRows?: (rows: number) => void;
}

/**
 * Streams rows through a classifier run: each output row is the input row with `label` set to the
 * predicted class and `probabilities` ({class: p}); a label the input already had moves to
 * `input_label`, so the two can be compared.
 */
export async function predictRun(options: PredictRunOptions): Promise<{rows: number; labels: string[]}> {
  const loaded = await loadRun(options.model);
  if (loaded.config.task !== 'classify') {
    loaded.model.dispose();
    throw new ModelError(
      `predict works on classifier runs; ${options.model} is a "${loaded.config.task}" run`,
      'use generate for language models',
    );
  }
  if (isFeatureRun(loaded.config)) {
    const run = asFeatureClassifierRun(loaded);
    try {
      return await predictFeatureRows(run, options);
    } finally {
      run.model.dispose();
    }
  }
  const run = asClassifierRun(loaded);
  const k = run.labels.length;
  const batchSize = options.batchSize ?? 64;
  let done = 0;
  async function* predicted(): AsyncGenerator<Doc> {
    const batches = readDocBatches({
      input: options.input,
      format: options.format,
      textField: options.textField ?? run.textField,
    });
    for await (const batch of batches) {
      const probs = await classifyTexts(
        run,
        batch.map((d) => d.text),
        batchSize,
      );
      const best = argmaxRows(probs, k);
      for (const [i, doc] of batch.entries()) {
        const probabilities = Object.fromEntries(
          run.labels.map((l, c) => [l, Number(probs[i * k + c]!.toFixed(6))]),
        );
        const fields = doc.label === undefined ? doc.fields : {input_label: doc.label, ...doc.fields};
        yield {...doc, label: run.labels[best[i]!]!, fields: {...fields, probabilities}};
      }
      done += batch.length;
      options.onRows?.(done);
    }
  }
  try {
    const {rows} = await writeDocs(predicted(), {
      output: options.output,
      format: options.outFormat,
      textField: options.textField ?? run.textField,
      inputs: typeof options.input === 'string' ? [options.input] : [],
    });
    return {rows, labels: run.labels};
  } finally {
    run.model.dispose();
  }
}
