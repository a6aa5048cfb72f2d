import type * as tf from '@tensorflow/tfjs';
import {ConfigError, ModelError} from '../errors.js';
import type {LoRASpec} from '../layers/lora-dense.js';
import {walkLayers} from '../layers/walk-layers.js';
import {applyLoRA, isLoRALayer} from './lora-model.js';

/** How the base becomes the model being trained. */
export interface FinetuneModelOptions {
  method: 'lora' | 'full';
  lora: LoRASpec;
  /** LoRA targets: a regular expression over layer paths. */
  targets: string;
  /** Layers kept fixed: a regular expression over layer paths. */
  freeze?: string;
  /** The classifier head's layer name: trained in full with LoRA too (as PEFT's modules_to_save). */
  head?: string;
}

export interface FinetuneModel {
  model: tf.LayersModel;
  /** LoRA: the adapted paths. */
  targets: string[];
  /** Paths held fixed by `freeze` (the outermost of each matched subtree). */
  frozen: string[];
}

/**
 * The model to fine-tune from `base`: LoRA wraps the target layers and freezes the rest (the head
 * stays trainable), full keeps every weight trainable; then `freeze` fixes the matching layers.
 * With LoRA the result is a new model and `base` may be disposed; with full it is `base` itself.
 */
export function finetuneModel(base: tf.LayersModel, options: FinetuneModelOptions): FinetuneModel {
  let model = base;
  let targets: string[] = [];
  if (options.method === 'lora') {
    const adapted = applyLoRA(base, {...options.lora, targets: pattern('targets', options.targets)});
    model = adapted.model;
    targets = adapted.report.targets;
    if (options.head && !targets.includes(options.head)) headLayer(model, options.head).trainable = true;
  } else {
    // A fused LoRA model keeps its base's frozen flags: full fine-tuning trains every layer.
    for (const {layer} of walkLayers(model)) layer.trainable = true;
  }
  const frozen = options.freeze ? freezeMatching(model, pattern('freeze', options.freeze)) : [];
  return {model, targets, frozen};
}

/** Sets `trainable = false` on every layer whose path matches; returns the outermost matched paths. */
export function freezeMatching(model: tf.LayersModel, re: RegExp): string[] {
  const frozen: string[] = [];
  for (const {path, layer} of walkLayers(model)) {
    if (!re.test(path)) continue;
    layer.trainable = false;
    if (!frozen.some((f) => path.startsWith(`${f}/`))) frozen.push(path);
  }
  if (frozen.length === 0) {
    const paths = walkLayers(model).map((l) => l.path);
    throw new ConfigError(
      `--freeze ${re.source} matches no layer`,
      `layer paths: ${paths.slice(0, 14).join(', ')}${paths.length > 14 ? ', …' : ''}`,
    );
  }
  return frozen;
}

/**
 * A copy of `model` whose Dense `head` has `units` outputs, freshly initialised (under the caller's
 * seed); every other weight is copied. The copy shares no variables with `model`.
 */
export function replaceHead(model: tf.LayersModel, head: string, units: number): tf.LayersModel {
  const config = JSON.parse(JSON.stringify(model.getConfig())) as tf.serialization.ConfigDict;
  const entries = config.layers as unknown as {className: string; config: tf.serialization.ConfigDict}[];
  const entry = entries.find((e) => e.config.name === head);
  if (entry?.className !== 'Dense') {
    throw new ModelError(`the model has no Dense head '${head}' to replace`);
  }
  entry.config.units = units;
  const ctor = model.constructor as typeof tf.LayersModel;
  const copy = ctor.fromConfig(ctor, config) as tf.LayersModel;
  const source = new Map(model.weights.map((w) => [w.originalName, w]));
  for (const w of copy.weights) {
    if (w.originalName.startsWith(`${head}/`)) continue;
    const from = source.get(w.originalName);
    if (!from) throw new ModelError(`replacing the head: no source weight for ${w.originalName}`);
    w.write(from.read());
  }
  return copy;
}

/** The model's top-level head layer; a missing one is a ModelError. */
export function headLayer(model: tf.LayersModel, head: string): tf.layers.Layer {
  const layer = model.layers.find((l) => l.name === head);
  if (!layer) throw new ModelError(`the model has no head layer '${head}'`);
  return layer;
}

/** True when `model` holds LoRA layers. */
export function hasAdapters(model: tf.LayersModel): boolean {
  return walkLayers(model).some(({layer}) => isLoRALayer(layer));
}

function pattern(flag: string, source: string): RegExp {
  try {
    return new RegExp(source);
  } catch (err) {
    throw new ConfigError(
      `--${flag} '${source}' is not a valid regular expression: ${(err as Error).message}`,
    );
  }
}
