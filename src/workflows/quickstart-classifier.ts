import {join} from 'node:path';
import {runAugment} from '../data/augment.js';
import {cleanDataset} from '../data/clean.js';
import {runSplit} from '../data/run-split.js';
import type {ClassifierConfig} from '../models/text-classifier/classifier.js';
import {evaluateRun} from './evaluate.js';
import {exportRun} from './export.js';
import {finetune} from './finetune.js';
import {pruneRun} from './prune.js';
import {quantizeRun} from './quantize.js';
import {
  type RoutingSummary,
  routingFigures,
  routingLine,
  TOUR_AUX_LOSS_COEF,
  trainTourMoE,
} from './quickstart-routing.js';
import {fileBytes, mb, pct, runModelBytes, type TourContext, thousands} from './quickstart-stages.js';

/**
 * The tour's MoE text classifier, over the `small-moe` preset: small enough to train in seconds on
 * 2 cores. One block (more overfit a few thousand reviews, see the `bag` preset), 8 routed SwiGLU
 * experts of 32 (top-2) + 1 always-on shared expert (DeepSeekMoE), 128 tokens of each review.
 */
export const TOUR_CLASSIFIER: Partial<ClassifierConfig> = {
  maxLen: 128,
  dModel: 32,
  numLayers: 1,
  numHeads: 2,
  ffn: 'moe',
  moe: {numExperts: 8, topK: 2, expertHidden: 32, numShared: 1, auxLossCoef: TOUR_AUX_LOSS_COEF},
  vocabSize: 6000,
};

/** LoRA targets of the tour: every projection of the routed and the shared experts. */
export const TOUR_LORA_TARGETS = '(experts|shared)/(gate|up|down)$';

/** Share of the routed experts that expert pruning drops: 2 of 8. */
export const TOUR_EXPERT_PRUNING = 0.25;

export interface ClassifierTourOptions {
  /** Folder holding reviews.jsonl (raw training rows) and test.jsonl. */
  fixtures: string;
  /** Training epochs of the classifier over the augmented rows. */
  epochs: number;
}

export interface ClassifierTourResult {
  accuracy_trained: number;
  accuracy_exported: number;
  routing?: RoutingSummary;
  export_dir: string;
  /** Run folder of the int8 model the export was made from (the same weights and encoding). */
  quantized_run: string;
}

/**
 * clean → split → augment → train an MoE classifier (with its routing) → LoRA on the experts →
 * drop the least-used experts → int8 → browser export, each through its command's library function.
 */
export async function classifierTour(
  ctx: TourContext,
  options: ClassifierTourOptions,
): Promise<ClassifierTourResult> {
  const {stage, dir, seed, signal} = ctx;
  const test = join(options.fixtures, 'test.jsonl');
  const data = (name: string) => dir('data', name);

  await stage('clean', async () => {
    const r = await cleanDataset({
      input: join(options.fixtures, 'reviews.jsonl'),
      output: data('clean.jsonl'),
      stripHtml: true,
    });
    const dropped = Object.entries(r.dropped)
      .map(([reason, n]) => `${reason} ${n}`)
      .join(', ');
    return {
      summary: `${r.rowsIn} → ${r.rowsOut} rows${dropped ? ` (dropped ${dropped})` : ''}`,
      size_bytes: await fileBytes(data('clean.jsonl')),
      figures: {rows_in: r.rowsIn, rows_out: r.rowsOut, ...r.dropped},
    };
  });
  await stage('split', async () => {
    const r = await runSplit({
      input: data('clean.jsonl'),
      outDir: dir('data'),
      ratios: [0.9, 0.1],
      names: ['train', 'val'],
      stratify: true,
      seed,
    });
    return {
      summary: `train ${r.counts.train} / val ${r.counts.val} rows (by text hash, stratified)`,
      size_bytes: await fileBytes(data('train.jsonl')),
      figures: {train: r.counts.train ?? 0, val: r.counts.val ?? 0},
    };
  });
  await stage('augment', async () => {
    const r = await runAugment({
      input: data('train.jsonl'),
      output: data('train-aug.jsonl'),
      numAug: 1,
      seed,
    });
    return {
      summary: `${r.io.read} → ${r.io.written} rows (EDA with WordNet synonyms, one new row each)`,
      size_bytes: await fileBytes(data('train-aug.jsonl')),
      figures: {rows_in: r.io.read, rows_out: r.io.written},
    };
  });

  const runs = (...parts: string[]) => dir('runs', ...parts);
  let routing: RoutingSummary | undefined;
  const trained = await stage('train', async () => {
    const {report: r, ...moe} = await trainTourMoE(ctx, 'train', 'classify', {
      data: data('train-aug.jsonl'),
      val: data('val.jsonl'),
      out: runs('moe'),
      preset: 'small-moe',
      overrides: TOUR_CLASSIFIER,
      epochs: options.epochs,
      lr: 3e-3,
    });
    routing = moe.routing;
    const accuracy = Number((await evaluateRun({model: runs('moe'), data: test})).accuracy);
    return {
      summary:
        `MoE classifier, 8 routed experts (top-2) + 1 shared: ${thousands(r.parameters)} parameters, ${r.steps} steps, ` +
        `test accuracy ${pct(accuracy)}${routingLine(routing)}`,
      size_bytes: await runModelBytes(runs('moe')),
      accuracy,
      figures: {
        parameters: r.parameters,
        steps: r.steps,
        val_acc: r.validation?.val_acc ?? Number.NaN,
        ...routingFigures(routing),
      },
    };
  });

  // LoRA on the experts' projections, fitted to the original (un-augmented) rows; merged for compression.
  await stage('finetune', async () => {
    const r = await finetune({
      model: runs('moe'),
      data: data('train.jsonl'),
      val: data('val.jsonl'),
      out: runs('moe-lora'),
      method: 'lora',
      targets: TOUR_LORA_TARGETS,
      rank: 4,
      epochs: 1,
      lr: 1e-3,
      merge: true,
      seed,
      signal,
      onStep: (e) => ctx.onStep?.('finetune', e),
    });
    const accuracy = Number((await evaluateRun({model: runs('moe-lora', 'merged'), data: test})).accuracy);
    const share = r.trainable_params / r.total_params;
    return {
      summary:
        `LoRA rank 4 on the experts' gate/up/down (${r.targets.length} layers): ${thousands(r.trainable_params)} of ` +
        `${thousands(r.total_params)} parameters trained (${pct(share)}), test accuracy ${pct(accuracy)}`,
      size_bytes: r.adapter_bytes ?? null,
      accuracy,
      figures: {
        trainable_params: r.trainable_params,
        total_params: r.total_params,
        trained_share: share,
        adapter_bytes: r.adapter_bytes ?? 0,
        steps: r.steps,
      },
    };
  });

  await stage('prune', async () => {
    const r = await pruneRun({
      model: runs('moe-lora', 'merged'),
      out: runs('moe-pruned'),
      method: 'experts',
      sparsity: TOUR_EXPERT_PRUNING,
      data: data('train.jsonl'),
      seed,
      eval: test,
    });
    const dropped = (r.layers ?? []).map((l) => {
      const gone = l.usage.map((_, e) => e).filter((e) => !l.kept.includes(e));
      const total = l.usage.reduce((a, b) => a + b, 0);
      return `${l.layer} e${gone.join(', e')} (${pct(gone.reduce((n, e) => n + l.usage[e]!, 0) / total)} of the choices)`;
    });
    return {
      summary:
        `dropped the least-used experts ${dropped.join('; ')}: ${thousands(r.parameters_before)} → ` +
        `${thousands(r.parameters_after)} parameters, ${mb(r.size_bytes_before)} → ${mb(r.size_bytes_after)}, ` +
        `accuracy ${pct(r.accuracy_before!)} → ${pct(r.accuracy_after!)}`,
      size_bytes: await runModelBytes(runs('moe-pruned')),
      accuracy: r.accuracy_after!,
      figures: {
        parameters_before: r.parameters_before,
        parameters_after: r.parameters_after,
        bytes_before: r.size_bytes_before,
        bytes_after: r.size_bytes_after,
        accuracy_before: r.accuracy_before!,
        accuracy_after: r.accuracy_after!,
      },
    };
  });
  await stage('quantize', async () => {
    const r = await quantizeRun({
      model: runs('moe-pruned'),
      out: runs('moe-int8'),
      dtype: 'int8',
      eval: test,
    });
    return {
      summary: `int8 per-channel: ${mb(r.size_bytes_before)} → ${mb(r.size_bytes_after)}, accuracy ${pct(r.accuracy_before!)} → ${pct(r.accuracy_after!)}`,
      size_bytes: await runModelBytes(runs('moe-int8')),
      accuracy: r.accuracy_after!,
      figures: {
        bytes_before: r.size_bytes_before,
        bytes_after: r.size_bytes_after,
        accuracy_before: r.accuracy_before!,
        accuracy_after: r.accuracy_after!,
      },
    };
  });
  const exported = await stage('export', async () => {
    const r = await exportRun({model: runs('moe-pruned'), out: dir('export'), dtype: 'int8', eval: test});
    return {
      summary: `${mb(r.model_bytes)} in ${r.files.length} files for the browser, accuracy ${pct(r.accuracy_after!)}`,
      size_bytes: r.model_bytes,
      accuracy: r.accuracy_after!,
      figures: {bytes: r.model_bytes, files: r.files.length},
    };
  });
  return {
    accuracy_trained: trained.accuracy!,
    accuracy_exported: exported.accuracy!,
    ...(routing ? {routing} : {}),
    export_dir: dir('export'),
    quantized_run: runs('moe-int8'),
  };
}
