import * as tf from '@tensorflow/tfjs';
import {ConfigError, ModelError} from '../errors.js';
import {hasSublayers} from '../layers/composite-layer.js';
import {LoRADense, type LoRASpec, resolveLoRASpec} from '../layers/lora-dense.js';
import {LoRAEmbedding} from '../layers/lora-embedding.js';
import {MoE} from '../layers/moe.js';

type Layer = tf.layers.Layer;
type ConfigDict = tf.serialization.ConfigDict;

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

export interface ParamCounts {
  trainableParams: number;
  totalParams: number;
}

export interface LoRAReport extends ParamCounts {
  /** The adapted paths, in model order. */
  targets: string[];
}

/** A layer of the model, top-level or nested, with its path. */
export interface LayerAtPath {
  path: string;
  layer: Layer;
}

/** Every layer of `model` and of its composite layers, depth first, with paths. */
export function walkLayers(model: tf.LayersModel): LayerAtPath[] {
  const out: LayerAtPath[] = [];
  const visit = (layer: Layer, path: string) => {
    out.push({path, layer});
    if (hasSublayers(layer)) for (const [name, child] of layer.sublayers()) visit(child, `${path}/${name}`);
  };
  for (const layer of model.layers) visit(layer, layer.name);
  return out;
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
      isDense(layer) ||
      isLoRALayer(layer) ||
      (topLevel.has(layer) && EMBEDDINGS.includes(layer.getClassName()));
    return adaptable ? [path] : [];
  });
}

/** Trainable and total parameter counts (each weight counted once). */
export function paramCounts(model: tf.LayersModel): ParamCounts {
  const size = (ws: tf.LayerVariable[]) =>
    ws.reduce((n, w) => n + tf.util.sizeFromShape(w.shape as number[]), 0);
  return {trainableParams: size(model.trainableWeights), totalParams: size(model.weights)};
}

/**
 * A copy of `model` whose target Dense layers (top-level or inside composite layers) are LoRADense
 * and whose target MoE projections carry stacked per-expert adapters, with every other weight frozen. The copy shares no variables with `model`; dispose either freely.
 * Compile the copy before `fit`.
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

  const config = cloneConfig(model);
  for (const entry of layerEntries(config)) {
    const name = entry.config.name as string;
    const own = targets.filter((t) => t.startsWith(`${name}/`)).map((t) => t.slice(name.length + 1));
    if (targets.includes(name)) {
      Object.assign(entry, adapterEntry(entry, spec));
    } else if (own.length > 0) {
      entry.config.lora = {...spec, targets: own};
    }
  }
  const result = rebuild(model, config);
  copyWeights(model, result, new Map());
  freezeAllButLoRA(result);
  return {model: result, report: {targets, ...paramCounts(result)}};
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
 * MoE): plain Dense/embedding/MoE layers, all trainable.
 */
export function fuseLoRA(model: tf.LayersModel): tf.LayersModel {
  const config = cloneConfig(model);
  for (const entry of layerEntries(config)) {
    if (entry.className === 'LoRADense' || entry.className === 'LoRAEmbedding')
      Object.assign(entry, baseEntry(entry));
    else if (entry.config.lora) entry.config.lora = null;
  }
  const fused = rebuild(model, config);
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

function isDense(layer: Layer): boolean {
  return layer.getClassName() === 'Dense';
}

interface LayerEntry {
  className: string;
  config: ConfigDict;
}

function cloneConfig(model: tf.LayersModel): ConfigDict {
  return JSON.parse(JSON.stringify(model.getConfig()));
}

/** The per-layer entries of a functional or Sequential model config. */
function layerEntries(config: ConfigDict): LayerEntry[] {
  return config.layers as unknown as LayerEntry[];
}

function rebuild(model: tf.LayersModel, config: ConfigDict): tf.LayersModel {
  const ctor = model.constructor as typeof tf.LayersModel;
  return ctor.fromConfig(ctor, config) as tf.LayersModel;
}

const LAYER_KEYS = ['name', 'trainable', 'dtype', 'batchInputShape', 'inputDType'];

function baseLayerConfig(config: ConfigDict): ConfigDict {
  return Object.fromEntries(LAYER_KEYS.filter((k) => config[k] !== undefined).map((k) => [k, config[k]!]));
}

/** The LoRADense / LoRAEmbedding entry that replaces a Dense / Embedding / TokenEmbedding entry. */
function adapterEntry(entry: LayerEntry, spec: Required<LoRASpec>): LayerEntry {
  const c = entry.config;
  const base = baseLayerConfig(c);
  switch (entry.className) {
    case 'Dense':
      return {
        className: 'LoRADense',
        config: {...base, units: c.units!, activation: c.activation!, useBias: c.useBias!, ...spec},
      };
    case 'Embedding':
      if (c.maskZero)
        throw new ConfigError(`applyLoRA: Embedding '${c.name}' uses maskZero, which LoRA does not keep`);
      return {
        className: 'LoRAEmbedding',
        config: {
          ...base,
          vocabSize: c.inputDim!,
          dModel: c.outputDim!,
          base: 'embedding',
          ...spec,
          dropout: 0,
        },
      };
    case 'TokenEmbedding':
      return {
        className: 'LoRAEmbedding',
        config: {...base, vocabSize: c.vocabSize!, dModel: c.dModel!, base: 'token', ...spec, dropout: 0},
      };
    default:
      throw new ConfigError(`applyLoRA: cannot adapt a ${entry.className} ('${c.name}')`);
  }
}

/** The plain entry a LoRADense / LoRAEmbedding entry fuses back to. */
function baseEntry(entry: LayerEntry): LayerEntry {
  const c = entry.config;
  const base = baseLayerConfig(c);
  if (entry.className === 'LoRADense') {
    return {
      className: 'Dense',
      config: {...base, units: c.units!, activation: c.activation!, useBias: c.useBias!},
    };
  }
  return c.base === 'embedding'
    ? {className: 'Embedding', config: {...base, inputDim: c.vocabSize!, outputDim: c.dModel!}}
    : {className: 'TokenEmbedding', config: {...base, vocabSize: c.vocabSize!, dModel: c.dModel!}};
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
