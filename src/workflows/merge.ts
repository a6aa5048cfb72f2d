import {ModelError} from '../errors.js';
import {writeOutputFolder} from '../fs/output-folder.js';
import {paramCounts} from '../layers/walk-layers.js';
import {fuseLoRA} from '../lora/lora-model.js';
import {refuseExportFolder} from '../models/export-folder.js';
import {
  type AdapterReference,
  adapterReference,
  attachAdapterRun,
  mergedRunConfig,
  modelFingerprint,
} from '../run/adapter-run.js';
import {loadRun} from '../run/load-run.js';
import {loadRunAssets, type RunConfig, readRunConfig, writePlainRun} from '../run/run-folder.js';

export interface MergeAdapterOptions {
  /** The base run folder (runs/BASE). */
  model: string;
  /** The LoRA run folder written by `finetune --method lora` (runs/FT). */
  adapter: string;
  /** Run folder to write the merged plain model to (runs/MERGED). */
  out: string;
  overwrite?: boolean;
  /** Notes and warnings (a base that differs from the one the adapter was trained on). */
  onInfo?: (message: string) => void;
}

export interface MergeReport {
  out: string;
  base: string;
  adapter: string;
  /** Layers whose adapter was merged into the weight. */
  layers: string[];
  /** Whether `model` is the very base the adapter was trained on (same weights fingerprint). */
  same_base: boolean;
  total_params: number;
}

/**
 * Merges a LoRA run's adapter (and trained head) into `model`, fused in fp32 (W + scale·A·B), and
 * writes a plain run folder that loads without the adapter. A base the adapter does not fit is a
 * ModelError naming the layer and both shapes; a base with other weights but the same shapes is
 * merged with a warning.
 */
export async function mergeAdapter(options: MergeAdapterOptions): Promise<MergeReport> {
  await refuseExportFolder(options.model, 'merge');
  await refuseExportFolder(options.adapter, 'merge', '--adapter');
  const config = await readRunConfig(options.adapter);
  const ref = adapterReference(config);
  if (!ref) {
    throw new ModelError(
      `${options.adapter} is not a LoRA run (its config.json has no adapter)`,
      'pass the --out folder of finetune --method lora',
    );
  }
  return writeOutputFolder(
    options.out,
    {inputs: [options.model, options.adapter], overwrite: options.overwrite},
    (tmp) => mergeInto(tmp, options, config, ref),
  );
}

/** Fuses the adapter into the base and writes the plain run to `dir`. */
async function mergeInto(
  dir: string,
  options: MergeAdapterOptions,
  config: RunConfig,
  ref: AdapterReference,
): Promise<MergeReport> {
  const sameBase = (await modelFingerprint(options.model)) === ref.fingerprint;
  if (!sameBase) {
    options.onInfo?.(
      `warning: ${options.model} is not the model ${options.adapter} was fine-tuned from (its weights differ); merging onto it anyway`,
    );
  }
  const base = await loadRun(options.model);
  try {
    const adapted = await attachAdapterRun(base.model, options.adapter, ref);
    try {
      const layers = ((config.finetune ?? {}) as {targets?: string[]}).targets ?? [];
      const fused = fuseLoRA(adapted);
      try {
        const assets = await loadRunAssets(options.adapter);
        await writePlainRun(dir, mergedRunConfig(config), fused, {
          tokenizer: assets.tokenizer ?? base.tokenizer,
          labels: assets.labels ?? base.labels,
        });
        return {
          out: options.out,
          base: options.model,
          adapter: options.adapter,
          layers,
          same_base: sameBase,
          total_params: paramCounts(fused).totalParams,
        };
      } finally {
        fused.dispose();
      }
    } finally {
      adapted.dispose();
    }
  } finally {
    base.model.dispose();
  }
}
