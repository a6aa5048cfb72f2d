import * as tf from '@tensorflow/tfjs';
import {hasSublayers} from './composite-layer.js';
import {MoE} from './moe.js';

type Layer = tf.layers.Layer;

/** A layer of a model, top-level or inside a composite layer, with its path (`block0/attn/q`). */
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

export interface ParamCounts {
  trainableParams: number;
  totalParams: number;
}

const size = (ws: readonly tf.LayerVariable[]) =>
  ws.reduce((n, w) => n + tf.util.sizeFromShape(w.shape as number[]), 0);

/**
 * Weights that are state, not parameters: each MoE layer's routing balance bias, which no optimizer
 * updates (aux-loss-free balancing moves it by a rule) and which issue 5's parameter counts leave out.
 */
function stateWeights(model: tf.LayersModel): Set<tf.LayerVariable> {
  return new Set(walkLayers(model).flatMap(({layer}) => (layer instanceof MoE ? layer.stateWeights() : [])));
}

/**
 * The model's parameters: every weight, frozen ones included, but not the MoE routing bias (state).
 * Every command reports this number, so train, prune, finetune and distill agree.
 */
export function countParameters(model: tf.LayersModel): number {
  const state = stateWeights(model);
  return size(model.weights.filter((w) => !state.has(w)));
}

/** Trainable parameters and all parameters, counted as {@link countParameters} does. */
export function paramCounts(model: tf.LayersModel): ParamCounts {
  return {trainableParams: size(model.trainableWeights), totalParams: countParameters(model)};
}
