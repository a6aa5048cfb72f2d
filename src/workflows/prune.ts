import {copyFile, readdir, stat} from 'node:fs/promises';
import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type {MetricKey} from '../compress/format-report.js';
import {
  countExpertUsage,
  dropExperts,
  type ExpertPruneStats,
  moeLayersToPrune,
} from '../compress/prune-experts.js';
import {finetuneWithMasks} from '../compress/prune-finetune.js';
import {
  applyMasks,
  DEFAULT_PRUNE_SKIP,
  maskTensors,
  measuredSparsity,
  type PruneScope,
  prunableWeights,
} from '../compress/prune-magnitude.js';
import type {PruneSchedule} from '../compress/prune-schedule.js';
import {
  type PruneStructure,
  prunedModelConfig,
  pruneStructures,
  type StructurePruneStats,
} from '../compress/prune-structures.js';
import {inferenceModel} from '../compress/quantize-model.js';
import {ConfigError, ModelError} from '../errors.js';
import {writeOutputFolder} from '../fs/output-folder.js';
import {countParameters} from '../layers/walk-layers.js';
import {refuseExportFolder} from '../models/export-folder.js';
import {type LoadedKindRun, loadKindRun} from '../models/registry.js';
import {RUN_FILES, saveLayersModel, writeFileAtomic} from '../run/run-folder.js';
import {type Batch, type BatchSource, disposeBatch} from '../train/batch-source.js';
import type {StepEvent} from '../train/trainer.js';
import {metricBeforeAfter} from './run-metric.js';

/**
 * Fine-tuning lr as a fraction of the training lr: retraining a pruned network at the full rate
 * undoes much of what it learned before the masks settle (on the IMDB `bag` run, 50 steps at the
 * full rate cost 25 points even at sparsity 0; at a tenth, 1).
 */
const FINETUNE_LR_RATIO = 0.1;

export const PRUNE_METHODS = ['magnitude', 'structured', 'experts'] as const;
export type PruneMethod = (typeof PRUNE_METHODS)[number];

export interface PruneRunOptions {
  /** Run folder to read (runs/NAME). */
  model: string;
  /** Run folder to write: a normal run (config, model, tokenizer, labels) with the pruned model. */
  out: string;
  method: PruneMethod;
  /** magnitude: fraction of the pruned weights set to zero; structured: of the FFN neurons, heads and units removed; experts: of experts dropped. Default 0.5. */
  sparsity?: number;
  /** structured: what to remove — `ffn` neurons, attention `heads`, Dense hidden `units`, or `all` the model has (default). */
  structure?: PruneStructure;
  /** magnitude: one threshold over all pruned weights (`global`, default) or one per weight (`layer`). */
  scope?: PruneScope;
  /** magnitude: weights (rank >= 2) left dense, by name (a RegExp or its source). Default /router/; null or 'none' prunes every kernel and embedding. */
  skip?: RegExp | string | null;
  /**
   * Labeled file: magnitude (gradual pruning) and structured (recovery) fine-tune on it for `steps`;
   * experts counts usage on it (required there), and fine-tunes only when `steps` is given.
   */
  data?: string;
  /** Fine-tuning steps on `data`. Default 100. */
  steps?: number;
  /** magnitude with `data`: raise sparsity gradually over the first 70% of the steps (default) or prune at once. */
  schedule?: 'gradual' | 'one-shot';
  /** Fine-tuning learning rate. Default a tenth of the run's training lr (1e-3 if unknown). */
  lr?: number;
  batchSize?: number;
  seed?: number;
  /** Labeled (classifier) or text (LM) file: the metric before and after. */
  eval?: string;
  /** Replace an `out` folder that already holds files. */
  overwrite?: boolean;
  onStep?: (event: StepEvent) => void;
}

export type PruneRunReport = {
  model: string;
  out: string;
  method: PruneMethod;
  sparsity_target: number;
  /** magnitude: zeros / values of the pruned weights; structured, experts: parameters removed / before. */
  sparsity: number;
  /** Zeros / all parameters of the saved model. */
  zeros_fraction: number;
  parameters_before: number;
  parameters_after: number;
  /** Bytes of the weight shards of `model/` in each folder (model.json excluded). */
  size_bytes_before: number;
  size_bytes_after: number;
  /** magnitude: the weights pruned. */
  pruned_weights?: string[];
  /** experts: usage and kept experts per MoE layer. */
  layers?: ExpertPruneStats[];
  /** structured: per kind removed (ffn, heads, units), its sizes before/after in total and per layer. */
  structures?: StructurePruneStats[];
  finetune_steps?: number;
  /** The run held LoRA adapters; they were merged into the base weights before pruning. */
  lora_fused?: boolean;
} & Partial<Record<MetricKey, number>>;

/**
 * Prunes a run folder into `out`: unstructured magnitude pruning (zeros in dense storage — the
 * tfjs format does not shrink unless the weights are then quantized or compressed), structured
 * removal of SwiGLU FFN neurons, attention heads and Dense hidden units, or dropping the least-used MoE experts (both rebuild smaller
 * layers and update config.json). Reports parameters, bytes, sparsity and, with `eval`, the metric.
 */
export async function pruneRun(options: PruneRunOptions): Promise<PruneRunReport> {
  const sparsity = options.sparsity ?? 0.5;
  if (!(sparsity >= 0 && sparsity < 1))
    throw new ConfigError(`--sparsity must be in [0, 1), got ${sparsity}`);
  if (options.structure !== undefined && options.method !== 'structured') {
    throw new ConfigError(`--structure applies to --method structured, not ${options.method}`);
  }
  if (options.method === 'experts' && !options.data) {
    throw new ConfigError('--method experts needs --data FILE', 'expert usage is counted on that data');
  }
  await refuseExportFolder(options.model, 'prune');
  return writeOutputFolder(
    options.out,
    {inputs: [options.model, options.data, options.eval], overwrite: options.overwrite},
    (tmp) => pruneInto(tmp, options, sparsity),
  );
}

/** The pruning itself, writing the new run into the folder `tmp`. */
async function pruneInto(tmp: string, options: PruneRunOptions, sparsity: number): Promise<PruneRunReport> {
  const opened = await loadKindRun(options.model);
  const run = opened.loaded;
  let pruned: tf.LayersModel | undefined;
  // LoRA adapters are merged first: pruning a base weight under a live adapter would not zero it.
  const plain = inferenceModel(run.model);
  try {
    const before = countParameters(run.model);
    let details: Partial<PruneRunReport> = {};
    let modelConfig = run.config.model as Record<string, unknown> | undefined;
    if (options.method === 'magnitude') {
      pruned = await copyModel(plain.model);
      details = await magnitude(opened, pruned, sparsity, options);
    } else if (options.method === 'structured') {
      const result = await pruneStructures(plain.model, sparsity, options.structure);
      pruned = result.model;
      details = {structures: result.structures};
      modelConfig = prunedModelConfig(modelConfig, result.structures);
      if (options.data) {
        details.finetune_steps = await recoveryFinetune(opened, pruned, options, [], {final: 0, end: 0});
      }
    } else {
      moeLayersToPrune(plain.model);
      const {data} = await readRunData(opened, options.data!, options, false);
      const usage = countExpertUsage(plain.model, batchInputs(data));
      const result = await dropExperts(plain.model, usage, sparsity);
      pruned = result.model;
      details = {layers: result.layers};
      if (options.steps !== undefined) {
        details.finetune_steps = await recoveryFinetune(opened, pruned, options, [], {final: 0, end: 0});
      }
      const moe = (modelConfig?.moe ?? {}) as Record<string, unknown>;
      modelConfig = {...modelConfig, moe: {...moe, numExperts: result.numExperts, topK: result.topK}};
    }
    const after = countParameters(pruned);
    await saveLayersModel(pruned, join(tmp, RUN_FILES.model));
    const config = {
      ...run.config,
      ...(modelConfig ? {model: modelConfig} : {}),
      pruned: {
        from: options.model,
        method: options.method,
        sparsity,
        ...(details.structures ? {structures: details.structures.map((s) => s.structure)} : {}),
      },
    };
    await writeFileAtomic(join(tmp, RUN_FILES.config), `${JSON.stringify(config, null, 2)}\n`);
    for (const name of [RUN_FILES.tokenizer, RUN_FILES.labels]) {
      const from = join(options.model, name);
      if (await stat(from).catch(() => null)) await copyFile(from, join(tmp, name));
    }
    const change = options.eval
      ? await metricBeforeAfter(opened.kind, opened.open(), pruned, options.eval)
      : {};
    const sizeAfter = await weightFileBytes(join(tmp, RUN_FILES.model));
    return {
      model: options.model,
      out: options.out,
      method: options.method,
      sparsity_target: sparsity,
      sparsity: options.method === 'magnitude' ? details.sparsity! : 1 - after / before,
      zeros_fraction: measuredSparsity(pruned.weights),
      parameters_before: before,
      parameters_after: after,
      size_bytes_before: await weightFileBytes(join(options.model, RUN_FILES.model)),
      size_bytes_after: sizeAfter,
      ...(plain.fused ? {lora_fused: true} : {}),
      ...details,
      ...change,
    };
  } finally {
    run.model.dispose();
    if (plain.fused) plain.model.dispose();
    pruned?.dispose();
  }
}

/** Magnitude pruning of `model` in place: one-shot, or during a fine-tune on `options.data`. */
async function magnitude(
  opened: LoadedKindRun,
  model: tf.LayersModel,
  sparsity: number,
  options: PruneRunOptions,
): Promise<Partial<PruneRunReport>> {
  const targets = prunableWeights(model, skipPattern(options.skip));
  if (targets.length === 0) throw new ModelError('no weights to prune', 'loosen --skip');
  const scope = options.scope ?? 'global';
  let steps: number | undefined;
  if (options.data) {
    const total = options.steps ?? 100;
    const schedule: PruneSchedule =
      options.schedule === 'one-shot'
        ? {final: sparsity, end: 0}
        : {final: sparsity, end: Math.floor(0.7 * total), frequency: Math.max(1, Math.floor(total / 20))};
    steps = await recoveryFinetune(opened, model, options, targets, schedule);
  } else {
    const masks = maskTensors(targets, sparsity, scope);
    applyMasks(targets, masks);
    tf.dispose(masks);
  }
  return {
    sparsity: measuredSparsity(targets),
    pruned_weights: targets.map((w) => w.originalName),
    ...(steps === undefined ? {} : {finetune_steps: steps}),
  };
}

/**
 * Fine-tunes a pruned classifier on `options.data` for `options.steps` (default 100) while the
 * magnitude masks of `targets` follow `schedule` (no targets: a plain recovery fine-tune).
 */
async function recoveryFinetune(
  opened: LoadedKindRun,
  model: tf.LayersModel,
  options: PruneRunOptions,
  targets: tf.LayerVariable[],
  schedule: PruneSchedule,
): Promise<number> {
  const {data, training} = await readRunData(opened, options.data!, options, true);
  const result = await finetuneWithMasks({
    model,
    targets,
    loss: opened.kind.loss(model),
    data,
    steps: options.steps ?? 100,
    schedule,
    scope: options.scope ?? 'global',
    lr: options.lr ?? FINETUNE_LR_RATIO * (training.lr ?? 1e-3),
    seed: options.seed ?? training.seed ?? 42,
    onStep: options.onStep,
  });
  return result.steps;
}

function skipPattern(skip: PruneRunOptions['skip']): RegExp | null {
  if (skip === undefined) return DEFAULT_PRUNE_SKIP;
  if (skip === null || skip === 'none') return null;
  if (skip instanceof RegExp) return skip;
  try {
    return new RegExp(skip);
  } catch (err) {
    throw new ConfigError(`--skip '${skip}' is not a valid regular expression: ${(err as Error).message}`);
  }
}

/** The inputs of one epoch of `source`, each disposed once the next is taken. */
function* batchInputs(source: BatchSource): Generator<tf.Tensor> {
  for (let index = 0; index < source.batchesPerEpoch; index++) {
    const batch = source.batch(0, index) as Batch;
    try {
      yield Array.isArray(batch.inputs) ? batch.inputs[0]! : batch.inputs;
    } finally {
      disposeBatch(batch);
    }
  }
}

/** A copy of `model` with its own weights (via its topology), for in-place edits. */
async function copyModel(model: tf.LayersModel): Promise<tf.LayersModel> {
  const copy = await tf.models.modelFromJSON(
    model.toJSON(undefined, false) as unknown as Parameters<typeof tf.models.modelFromJSON>[0],
  );
  copy.setWeights(model.getWeights());
  return copy;
}

/** The run's training settings (config.json `training`), where recorded. */
interface TrainingSettings {
  lr?: number;
  batchSize?: number;
  seed?: number;
}

/** `file` as batches of the run's kind, in the run's batch size and seed unless `options` say otherwise. */
async function readRunData(
  {kind, open}: LoadedKindRun,
  file: string,
  options: Pick<PruneRunOptions, 'batchSize' | 'seed'>,
  shuffle: boolean,
): Promise<{data: BatchSource; training: TrainingSettings}> {
  const run = open();
  const training = (run.runConfig.training ?? {}) as TrainingSettings;
  const {source} = await kind.readData(run, file, {
    batchSize: options.batchSize ?? training.batchSize ?? 32,
    seed: options.seed ?? training.seed ?? 42,
    shuffle,
  });
  return {data: source, training};
}

/** Bytes of the weight shards (`*.bin`) of a model folder. */
async function weightFileBytes(dir: string): Promise<number> {
  let n = 0;
  for (const f of await readdir(dir)) if (f.endsWith('.bin')) n += (await stat(join(dir, f))).size;
  return n;
}
