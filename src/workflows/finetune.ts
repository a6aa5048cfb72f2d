import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {QuantAwareTraining} from '../compress/qat.js';
import {ConfigError} from '../errors.js';
import {assertOutsideInputs} from '../fs/path-relation.js';
import {paramCounts} from '../layers/walk-layers.js';
import {finetuneModel, hasAdapters, replaceHead} from '../lora/finetune-model.js';
import {fuseLoRA} from '../lora/lora-model.js';
import {refuseExportFolder} from '../models/export-folder.js';
import type {OpenRun} from '../models/model-kind.js';
import {openRun} from '../models/registry.js';
import {engineOptions} from '../models/train-options.js';
import {mergedRunConfig, referenceTo, saveAdapterRun} from '../run/adapter-run.js';
import {
  checkRunFolderUsable,
  prepareRunFolder,
  type RunConfig,
  saveRunArtifacts,
  writePlainRun,
} from '../run/run-folder.js';
import {withRunLock} from '../run/run-lock.js';
import {withSeededRandom} from '../train/seeded-random.js';
import {trainableFromLayersModel} from '../train/trainable.js';
import {train} from '../train/trainer.js';
import {DEFAULT_LORA_TARGETS, type FinetuneOptions, type FinetuneReport} from './finetune-options.js';

/** Folder of the merged plain model inside a fine-tuned run (`--merge`). */
export const MERGED_DIR = 'merged';

/**
 * Fine-tunes the run `options.model` on `options.data` into the run folder `options.out` with the
 * kit's training engine: LoRA adapters on a frozen base (the folder keeps the adapter and a
 * fingerprinted reference to the base), or every weight (`method: 'full'`), minus `freeze`.
 * Classifier and language-model runs; the task's data, loss and labels come from `finetuneData`.
 */
export async function finetune(options: FinetuneOptions): Promise<FinetuneReport> {
  return withRunLock(options.out, options.onInfo, () => finetuneLocked(options));
}

async function finetuneLocked(options: FinetuneOptions): Promise<FinetuneReport> {
  const method = options.method ?? 'lora';
  if (method !== 'lora' && method !== 'full')
    throw new ConfigError(`--method must be lora or full, got ${method}`);
  if (options.qat && method !== 'full') {
    throw new ConfigError(
      '--qat needs --method full',
      'quantization-aware training updates the base weights',
    );
  }
  await assertOutsideInputs(options.out, [options.model, options.data, options.val], `--out ${options.out}`);
  await checkRunFolderUsable(options.out, options);
  const seed = options.seed ?? 42;
  await refuseExportFolder(options.model, 'finetune');
  const {kind, run: base} = await openRun(options.model);
  const owned: tf.LayersModel[] = [base.model];
  try {
    if (hasAdapters(base.model)) {
      if (method === 'lora') {
        throw new ConfigError(
          `${options.model} is a LoRA run: an adapter over an adapter is not supported`,
          `merge it first (deepseek-kit merge --model BASE --adapter ${options.model} --out DIR) and fine-tune DIR`,
        );
      }
      base.model = fuseLoRA(base.model);
      owned.push(base.model);
    }
    if (!kind.finetuneData) {
      throw new ConfigError(
        `finetune does not support ${kind.id} runs`,
        'fine-tune a text classifier or a language model',
      );
    }
    const data = await kind.finetuneData(base, {...options, seed});
    const rank = options.rank ?? 8;
    const lora = {
      rank,
      alpha: options.alpha ?? 2 * rank,
      dropout: options.dropout ?? 0,
      rslora: options.rslora ?? false,
    };
    const targetsPattern = options.targets ?? DEFAULT_LORA_TARGETS;
    const headUnits = data.labels?.length;
    const newHead = Boolean(options.newHead && data.head && headUnits);
    const prepared = withSeededRandom(seed, () => {
      const start = newHead ? replaceHead(base.model, data.head!, headUnits!) : base.model;
      if (start !== base.model) owned.push(start);
      return finetuneModel(start, {
        method,
        lora,
        targets: targetsPattern,
        freeze: options.freeze,
        head: data.head,
      });
    });
    const {model} = prepared;
    if (!owned.includes(model)) owned.push(model);
    const counts = paramCounts(model);
    options.onInfo?.(
      `${method === 'lora' ? `LoRA rank ${rank} on ${prepared.targets.length} layers` : 'full fine-tuning'}` +
        `${prepared.frozen.length ? `, frozen: ${prepared.frozen.join(', ')}` : ''}: ` +
        `${counts.trainableParams.toLocaleString('en-US')} of ${counts.totalParams.toLocaleString('en-US')} parameters trainable ` +
        `(${((100 * counts.trainableParams) / counts.totalParams).toFixed(2)}%)`,
    );
    const head =
      method === 'lora' && data.head && !prepared.targets.includes(data.head) ? data.head : undefined;
    const reference = await referenceTo(options.model, options.out, head);
    const lr = options.lr ?? (method === 'lora' ? 1e-3 : 1e-4);
    const runConfig = finetuneRunConfig(base, options, {
      method,
      lora,
      targets: prepared.targets,
      frozen: prepared.frozen,
      newHead,
      labels: data.labels,
      lr,
      seed,
      reference,
    });
    await prepareRunFolder(options.out, options.qat ? {...runConfig, qat: options.qat} : runConfig, options);
    if (!options.resume)
      await saveRunArtifacts(options.out, {tokenizer: base.tokenizer, labels: data.labels});
    // LoRA keeps the base as it is: state a frozen layer updates itself in training (an MoE's
    // aux-loss-free routing bias) is put back afterwards, so base + adapter is what was saved.
    const frozenState = method === 'lora' ? model.nonTrainableWeights.map((w) => w.read().clone()) : [];
    const qat = options.qat ? new QuantAwareTraining(model, {dtype: options.qat}) : undefined;
    if (qat)
      options.onInfo?.(`quantization-aware: ${qat.weightNames.length} weights train through ${options.qat}`);
    const loss = kind.loss(model);
    const result = await train({
      ...engineOptions(options),
      hooks: qat ? [qat.hook] : [],
      // LoRA checkpoints hold the adapters and head only: the frozen base is in the base run.
      model:
        method === 'lora'
          ? {trainable: trainableFromLayersModel(model).trainable}
          : trainableFromLayersModel(model),
      loss,
      data: data.train,
      validation: data.val,
      lr,
      optimizer: {weightDecay: options.weightDecay ?? 0},
    });
    for (const [i, value] of frozenState.entries()) model.nonTrainableWeights[i]!.write(value);
    tf.dispose(frozenState);
    let adapterBytes: number | undefined;
    if (method === 'lora') adapterBytes = await saveAdapterRun(model, options.out, head);
    else await saveRunArtifacts(options.out, {model});
    let merged: string | undefined;
    if (options.merge) {
      merged = join(options.out, MERGED_DIR);
      const plain = method === 'lora' ? fuseLoRA(model) : model;
      try {
        await writePlainRun(merged, mergedRunConfig(runConfig), plain, {
          tokenizer: base.tokenizer,
          labels: data.labels,
        });
      } finally {
        if (plain !== model) plain.dispose();
      }
    }
    return {
      task: kind.task,
      method,
      out: options.out,
      base: options.model,
      trainable_params: counts.trainableParams,
      total_params: counts.totalParams,
      ...(qat ? {qat: options.qat, qat_weights: qat.weightNames.length} : {}),
      targets: prepared.targets,
      frozen: prepared.frozen,
      labels: data.labels,
      new_head: newHead,
      steps: result.steps,
      epochs: result.epochsCompleted,
      stopped_by: result.stoppedBy,
      seconds: result.seconds,
      final_loss: result.finalLoss,
      validation: result.lastEval && (kind.validationReport?.(result.lastEval) ?? result.lastEval),
      train_examples: data.trainExamples,
      val_examples: data.valExamples,
      adapter_bytes: adapterBytes,
      merged,
      resumed_from: result.resumedFrom,
    };
  } finally {
    for (const m of new Set(owned)) m.dispose();
  }
}

interface RunSettings {
  method: 'lora' | 'full';
  lora: {rank: number; alpha: number; dropout: number; rslora: boolean};
  targets: string[];
  frozen: string[];
  newHead: boolean;
  labels?: string[];
  lr: number;
  seed: number;
  reference: Awaited<ReturnType<typeof referenceTo>>;
}

/** config.json of a fine-tuned run: the base's model config, how it was tuned, and (LoRA) the adapter reference. */
function finetuneRunConfig(base: OpenRun, o: FinetuneOptions, s: RunSettings): RunConfig {
  const baseData = (base.runConfig.data ?? {}) as Record<string, unknown>;
  const training = (base.runConfig.training ?? {}) as {batchSize?: number};
  const {dir: _dir, head: _head, ...baseRef} = s.reference;
  return {
    task: base.runConfig.task,
    model: base.runConfig.model,
    ...(s.labels ? {labels: s.labels} : {}),
    tokenizer: base.runConfig.tokenizer,
    data: {
      ...baseData,
      train: o.data,
      val: o.val ?? null,
      ...(o.textField ? {textField: o.textField} : {}),
      ...(o.labelField ? {labelField: o.labelField} : {}),
    },
    training: {
      batchSize: o.batchSize ?? training.batchSize ?? null,
      lr: s.lr,
      seed: s.seed,
      weightDecay: o.weightDecay ?? 0,
      clipNorm: o.clipNorm ?? 1,
    },
    finetune: {
      method: s.method,
      base: baseRef,
      ...(s.method === 'lora' ? {...s.lora, targets: s.targets} : {}),
      frozen: s.frozen,
      newHead: s.newHead,
    },
    ...(s.method === 'lora' ? {adapter: s.reference} : {}),
  };
}

/** One line: base and method, steps, trained share of the parameters, loss, validation, where (and the adapter size). */
export function formatFinetuneReport(r: FinetuneReport): string {
  const share = ((100 * r.trainable_params) / r.total_params).toFixed(2);
  const val = Object.entries(r.validation ?? {})
    .map(([k, v]) => `${k} ${v.toFixed(4)}`)
    .join('  ');
  const saved = r.adapter_bytes !== undefined ? ` (adapter ${(r.adapter_bytes / 1024).toFixed(1)} KB)` : '';
  return (
    `fine-tuned ${r.base} (${r.method}) in ${r.seconds.toFixed(1)}s: ${r.steps} steps, ` +
    `${r.trainable_params} of ${r.total_params} parameters trained (${share}%), loss ${r.final_loss.toFixed(4)}` +
    `${val ? `  ${val}` : ''} → ${r.out}${saved}${r.merged ? `; merged → ${r.merged}` : ''}`
  );
}
