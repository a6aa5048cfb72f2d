import * as tf from '@tensorflow/tfjs';
import {ConfigError, ModelError} from '../errors.js';
import {hasSublayers} from '../layers/composite-layer.js';
import {LoRADense, type LoRASpec, resolveLoRASpec} from '../layers/lora-dense.js';
import {LoRAEmbedding} from '../layers/lora-embedding.js';
import {cloneLayer, mapLayers} from '../layers/map-layers.js';
import {MoE} from '../layers/moe.js';
import {type ParamCounts, paramCounts, walkLayers} from '../layers/walk-layers.js';

type Layer = tf.layers.Layer;

/** Which layers get adapters, and their shape. */
export interface ApplyLoRAOptions extends LoRASpec {
  /**
   * Layer paths to adapt: a regular expression searched in each path (`attn.(q|v)` matches
   * `block0/attn/q`), or a list of exact paths. A path is a top-level Dense layer's name, or
   * `<layer>/<child>…` for the projections inside attention, SwiGLU and decoder blocks, and
   * `<moe>/experts/<p>`, `<moe>/shared/<p>` for an MoE's stacked expert projections (p in
   * gate/up/down; `block0/ffn/experts/down`).
   */
  targets: string | RegExp | string[];
}

export interface LoRAReport extends ParamCounts {
  /** The adapted paths, in model order. */
  targets: string[];
}

/** A layer holding LoRA adapters of its own: all of them expose A/B and merge the same way. */
export type LoRALayer = LoRADense | LoRAEmbedding | MoE;

/** A layer with LoRA adapters: LoRADense, LoRAEmbedding, or an MoE with adapted expert projections. */
export function isLoRALayer(layer: Layer): layer is LoRALayer {
  return (
    layer instanceof LoRADense ||
    layer instanceof LoRAEmbedding ||
    (layer instanceof MoE && layer.lora !== null)
  );
}

/** The adapted paths of `model`: each LoRA layer's, and each adapted MoE projection's. */
export function adaptedPaths(model: tf.LayersModel): string[] {
  return walkLayers(model).flatMap(({path, layer}) => {
    if (layer instanceof MoE) return layer.loraAdapters().map((a) => `${path}/${a.site}`);
    return isLoRALayer(layer) ? [path] : [];
  });
}

const EMBEDDINGS = ['Embedding', 'TokenEmbedding'];

/**
 * Paths that can take an adapter, adapted or not: Dense layers at any depth, top-level
 * Embedding/TokenEmbedding layers, and the expert projections of MoE layers.
 */
export function loraSites(model: tf.LayersModel): string[] {
  const topLevel = new Set(model.layers);
  return walkLayers(model).flatMap(({path, layer}) => {
    if (layer instanceof MoE) return layer.loraSites().map((site) => `${path}/${site}`);
    const adaptable =
      layer.getClassName() === 'Dense' ||
      isLoRALayer(layer) ||
      (topLevel.has(layer) && EMBEDDINGS.includes(layer.getClassName()));
    return adaptable ? [path] : [];
  });
}

/** A composite layer's `lora` config: the adapter shape and the child paths that carry one. */
const loraOf = (layer: Layer) => (layer.getConfig() as {lora?: unknown}).lora;

/**
 * A copy of `model` with adapters on the target layers, every other weight frozen. Top-level Dense
 * and embedding layers are replaced by `LoRADense.around` / `LoRAEmbedding.around`;
 * composite layers (attention, SwiGLU, decoder blocks, MoE) build their adapted children from their
 * own `lora` config. The copy shares no variables with `model`; dispose either freely.
 */
export function applyLoRA(
  model: tf.LayersModel,
  options: ApplyLoRAOptions,
): {model: tf.LayersModel; report: LoRAReport} {
  const spec = resolveLoRASpec('applyLoRA', options);
  const sites = loraSites(model);
  const targets = sites.filter(targetMatcher(options.targets, sites));
  if (targets.length === 0) {
    throw new ConfigError(
      `applyLoRA: targets ${String(options.targets)} match no layer`,
      `layers that can take LoRA: ${sites.slice(0, 12).join(', ')}${sites.length > 12 ? ', …' : ''}`,
    );
  }
  const adapted = new Set(adaptedPaths(model));
  const already = targets.find((t) => adapted.has(t));
  if (already)
    throw new ConfigError(`applyLoRA: '${already}' already has a LoRA adapter — fuse the model first`);

  const result = mapLayers(model, (layer) => {
    const name = layer.name;
    if (targets.includes(name)) return adapterFor(layer, spec);
    const own = targets.filter((t) => t.startsWith(`${name}/`)).map((t) => t.slice(name.length + 1));
    return own.length > 0 ? cloneLayer(layer, {lora: {...spec, targets: own}}) : cloneLayer(layer);
  });
  copyWeights(model, result, new Map());
  freezeAllButLoRA(result);
  return {model: result, report: {targets, ...paramCounts(result)}};
}

/** The adapted stand-in for a top-level layer, made by its LoRA class (`around`). */
function adapterFor(layer: Layer, spec: Required<LoRASpec>): Layer {
  if (layer.getClassName() === 'Dense') return LoRADense.around(layer, spec);
  if (EMBEDDINGS.includes(layer.getClassName())) return LoRAEmbedding.around(layer, spec);
  throw new ConfigError(`applyLoRA: cannot adapt a ${layer.getClassName()} ('${layer.name}')`);
}

/**
 * Freezes every weight except LoRA A/B (tfjs does not save per-child trainable flags, so call this
 * again on an adapted model loaded from disk before training it).
 */
export function freezeAllButLoRA(model: tf.LayersModel): void {
  const adapters = new Set(
    walkLayers(model)
      .filter(({layer}) => isLoRALayer(layer))
      .map(({path}) => path),
  );
  for (const {path, layer} of walkLayers(model)) {
    if (isLoRALayer(layer)) continue;
    const holdsAdapter = [...adapters].some((a) => a.startsWith(`${path}/`));
    if (!holdsAdapter) layer.trainable = false;
    else if (hasSublayers(layer)) layer.trainable = true;
  }
}

/**
 * A copy of `model` with every adapter merged into its base weight (W + scale·A·B; per expert for an
 * MoE): LoRADense and LoRAEmbedding become their `plainLayer()`, composite layers
 * rebuild without `lora` and take the merged weights of their adapted children.
 */
export function fuseLoRA(model: tf.LayersModel): tf.LayersModel {
  const fused = mapLayers(model, (layer) => {
    if (layer instanceof LoRADense || layer instanceof LoRAEmbedding) return layer.plainLayer();
    return loraOf(layer) ? cloneLayer(layer, {lora: null}) : cloneLayer(layer);
  });
  const merged = new Map<string, tf.Tensor>();
  for (const {layer} of walkLayers(model)) {
    if (!isLoRALayer(layer)) continue;
    const values = layer.mergedWeights();
    for (const [i, name] of layer.baseWeightNames().entries()) merged.set(name, values[i]!);
  }
  copyWeights(model, fused, merged);
  tf.dispose([...merged.values()]);
  return fused;
}

/** Regex search on each path, or membership for a list of exact paths. */
function targetMatcher(targets: ApplyLoRAOptions['targets'], sites: string[]): (path: string) => boolean {
  if (Array.isArray(targets)) {
    const missing = targets.find((t) => !sites.includes(t));
    if (missing) throw new ConfigError(`applyLoRA: no Dense layer at '${missing}'`);
    return (path) => targets.includes(path);
  }
  let re: RegExp;
  try {
    re = typeof targets === 'string' ? new RegExp(targets) : targets;
  } catch (err) {
    throw new ConfigError(
      `applyLoRA: targets '${targets}' is not a valid regular expression: ${(err as Error).message}`,
    );
  }
  return (path) => re.test(path);
}

/**
 * Writes each weight of `to` from the weight of `from` with the same name (or from `overrides`);
 * weights `to` has that `from` lacks must be fresh LoRA A/B, and every other one must be found.
 */
function copyWeights(from: tf.LayersModel, to: tf.LayersModel, overrides: Map<string, tf.Tensor>): void {
  const source = new Map(from.weights.map((w) => [w.originalName, w]));
  for (const w of to.weights) {
    const value = overrides.get(w.originalName) ?? source.get(w.originalName)?.read();
    if (!value) {
      if (/\/lora_[ab]$/.test(w.originalName)) continue;
      throw new ModelError(`LoRA rebuild: no source weight for ${w.originalName}`);
    }
    if (!tf.util.arraysEqual(value.shape, w.shape as number[])) {
      throw new ModelError(
        `LoRA rebuild: ${w.originalName} is [${w.shape.join(', ')}] but its source is [${value.shape.join(', ')}]`,
      );
    }
    w.write(value);
  }
}
