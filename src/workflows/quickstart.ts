import {mkdir, readdir, rm, stat} from 'node:fs/promises';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {runAugment} from '../data/augment.js';
import {cleanDataset} from '../data/clean.js';
import {runSplit} from '../data/run-split.js';
import {UserError} from '../errors.js';
import type {StepEvent} from '../train/train-options.js';
import {evaluateRun} from './evaluate.js';
import {exportRun} from './export.js';
import {finetune} from './finetune.js';
import {pruneRun} from './prune.js';
import {quantizeRun} from './quantize.js';
import {trainRun} from './train.js';

/** The IMDB reviews shipped with the package (fixtures/imdb: 2,000 raw training rows, 1,000 test rows). */
export const BUNDLED_IMDB = fileURLToPath(new URL('../../fixtures/imdb/', import.meta.url));

export interface QuickstartOptions {
  /** Folder for everything the pipeline writes: data/, runs/, export/. */
  out: string;
  /** Folder holding reviews.jsonl and test.jsonl. Default the bundled IMDB fixture. */
  fixtures?: string;
  /** Replace an `out` folder that already holds files. */
  overwrite?: boolean;
  /** Seed of the split, augmentation and training. Default 42. */
  seed?: number;
  /** Training epochs of the classifier. Default 6. */
  epochs?: number;
  signal?: AbortSignal;
  /** Each stage as it ends. */
  onStage?: (stage: QuickstartStage) => void;
  /** Training steps of the stages that train. */
  onStep?: (stage: string, event: StepEvent) => void;
}

export interface QuickstartStage {
  stage: string;
  /** The stage's key figure, for people. */
  summary: string;
  seconds: number;
  /** Machine-readable figures of the stage. */
  figures: Record<string, number | string>;
}

export interface QuickstartReport {
  out: string;
  stages: QuickstartStage[];
  seconds: number;
  /** Test accuracy of the trained classifier and of the exported browser model. */
  accuracy_trained: number;
  accuracy_exported: number;
  /** Where the browser model is. */
  export_dir: string;
}

/**
 * The whole life of a model on the bundled IMDB reviews, each stage through the library function
 * its command calls: clean → split → augment → train → finetune (LoRA, merged) → prune → quantize → export,
 * with the test accuracy measured after training and on the exported model.
 */
export async function quickstart(options: QuickstartOptions): Promise<QuickstartReport> {
  const started = performance.now();
  const fixtures = options.fixtures ?? BUNDLED_IMDB;
  const raw = join(fixtures, 'reviews.jsonl');
  const test = join(fixtures, 'test.jsonl');
  for (const file of [raw, test]) {
    if (!(await stat(file).catch(() => null))) {
      throw new UserError(
        `quickstart data ${file} is missing`,
        'reinstall deepseek-kit or pass --fixtures DIR',
      );
    }
  }
  await prepareOut(options.out, options.overwrite);
  await mkdir(join(options.out, 'data'), {recursive: true});
  const seed = options.seed ?? 42;
  const dir = (...parts: string[]) => join(options.out, ...parts);
  const stages: QuickstartStage[] = [];
  const stage = async (name: string, run: () => Promise<Omit<QuickstartStage, 'stage' | 'seconds'>>) => {
    options.signal?.throwIfAborted();
    const t0 = performance.now();
    const result = await run();
    const done = {stage: name, seconds: (performance.now() - t0) / 1000, ...result};
    stages.push(done);
    options.onStage?.(done);
    return done;
  };

  await stage('clean', async () => {
    const r = await cleanDataset({input: raw, output: dir('data', 'clean.jsonl'), stripHtml: true});
    const dropped = Object.entries(r.dropped)
      .map(([reason, n]) => `${reason} ${n}`)
      .join(', ');
    return {
      summary: `${r.rowsIn} → ${r.rowsOut} rows${dropped ? ` (dropped ${dropped})` : ''}`,
      figures: {rows_in: r.rowsIn, rows_out: r.rowsOut, ...r.dropped},
    };
  });
  await stage('split', async () => {
    const r = await runSplit({
      input: dir('data', 'clean.jsonl'),
      outDir: dir('data'),
      ratios: [0.9, 0.1],
      names: ['train', 'val'],
      stratify: true,
      seed,
    });
    return {
      summary: `train ${r.counts.train} / val ${r.counts.val} rows (by text hash, stratified)`,
      figures: {train: r.counts.train ?? 0, val: r.counts.val ?? 0},
    };
  });
  await stage('augment', async () => {
    const r = await runAugment({
      input: dir('data', 'train.jsonl'),
      output: dir('data', 'train-aug.jsonl'),
      numAug: 1,
      seed,
    });
    return {
      summary: `${r.io.read} → ${r.io.written} rows (EDA with WordNet synonyms, one new row each)`,
      figures: {rows_in: r.io.read, rows_out: r.io.written},
    };
  });
  const trained = await stage('train', async () => {
    const r = await trainRun('classify', {
      data: dir('data', 'train-aug.jsonl'),
      val: dir('data', 'val.jsonl'),
      out: dir('runs', 'imdb'),
      preset: 'bag',
      epochs: options.epochs ?? 6,
      lr: 3e-3,
      seed,
      signal: options.signal,
      onStep: (e) => options.onStep?.('train', e),
    });
    const evaluation = await evaluateRun({model: dir('runs', 'imdb'), data: test});
    const accuracy = Number(evaluation.accuracy);
    return {
      summary: `${r.parameters.toLocaleString('en-US')} parameters, ${r.steps} steps, test accuracy ${pct(accuracy)}`,
      figures: {parameters: r.parameters, steps: r.steps, val_acc: r.validation?.val_acc ?? NaN, accuracy},
    };
  });
  // The classifier trained on augmented rows gets a LoRA adapter on its embedding, fitted to the
  // original (un-augmented) rows; the merged model goes on to compression.
  await stage('finetune', async () => {
    const r = await finetune({
      model: dir('runs', 'imdb'),
      data: dir('data', 'train.jsonl'),
      val: dir('data', 'val.jsonl'),
      out: dir('runs', 'imdb-lora'),
      method: 'lora',
      targets: 'embed',
      rank: 8,
      epochs: 1,
      lr: 1e-3,
      merge: true,
      seed,
      signal: options.signal,
      onStep: (e) => options.onStep?.('finetune', e),
    });
    const evaluation = await evaluateRun({model: dir('runs', 'imdb-lora', 'merged'), data: test});
    const accuracy = Number(evaluation.accuracy);
    const share = r.trainable_params / r.total_params;
    return {
      summary:
        `LoRA rank 8 on the embedding: ${r.trainable_params.toLocaleString('en-US')} of ${r.total_params.toLocaleString('en-US')} ` +
        `parameters trained (${pct(share)}), adapter ${mb(r.adapter_bytes ?? 0)}, test accuracy ${pct(Number(trained.figures.accuracy))} → ${pct(accuracy)}`,
      figures: {
        trainable_params: r.trainable_params,
        total_params: r.total_params,
        adapter_bytes: r.adapter_bytes ?? 0,
        steps: r.steps,
        accuracy,
      },
    };
  });
  await stage('prune', async () => {
    const r = await pruneRun({
      model: dir('runs', 'imdb-lora', 'merged'),
      out: dir('runs', 'imdb-pruned'),
      method: 'magnitude',
      sparsity: 0.5,
      data: dir('data', 'train-aug.jsonl'),
      steps: 100,
      seed,
      eval: test,
      onStep: (e) => options.onStep?.('prune', e),
    });
    return {
      summary: `50% of the weights zeroed over 100 fine-tuning steps, accuracy ${pct(r.accuracy_before!)} → ${pct(r.accuracy_after!)}`,
      figures: {sparsity: r.sparsity, accuracy_before: r.accuracy_before!, accuracy_after: r.accuracy_after!},
    };
  });
  const quantized = await stage('quantize', async () => {
    const r = await quantizeRun({
      model: dir('runs', 'imdb-pruned'),
      out: dir('runs', 'imdb-int8'),
      dtype: 'int8',
      eval: test,
    });
    return {
      summary: `int8 per-channel: ${mb(r.size_bytes_before)} → ${mb(r.size_bytes_after)}, accuracy ${pct(r.accuracy_before!)} → ${pct(r.accuracy_after!)}`,
      figures: {
        bytes_before: r.size_bytes_before,
        bytes_after: r.size_bytes_after,
        accuracy_before: r.accuracy_before!,
        accuracy_after: r.accuracy_after!,
      },
    };
  });
  const exported = await stage('export', async () => {
    const r = await exportRun({
      model: dir('runs', 'imdb-pruned'),
      out: dir('export'),
      dtype: 'int8',
      eval: test,
    });
    return {
      summary: `${mb(r.model_bytes)} in ${r.files.length} files for the browser, accuracy ${pct(r.accuracy_after!)}`,
      figures: {bytes: r.model_bytes, files: r.files.length, accuracy: r.accuracy_after!},
    };
  });
  void quantized;
  return {
    out: options.out,
    stages,
    seconds: (performance.now() - started) / 1000,
    accuracy_trained: Number(trained.figures.accuracy),
    accuracy_exported: Number(exported.figures.accuracy),
    export_dir: dir('export'),
  };
}

async function prepareOut(out: string, overwrite?: boolean): Promise<void> {
  const existing = await readdir(out).catch(() => null);
  if (!existing || existing.length === 0) return;
  if (!overwrite)
    throw new UserError(`${out} already holds files`, 'pass --overwrite to replace them, or --out DIR');
  await rm(out, {recursive: true, force: true});
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;
