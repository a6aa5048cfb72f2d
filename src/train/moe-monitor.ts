import * as tf from '@tensorflow/tfjs';
import {type RoutingStats, routingCollapseWarning} from '../layers/moe/routing-stats.js';
import {MoE} from '../layers/moe.js';
import {walkLayers} from '../layers/walk-layers.js';
import type {StepEvent} from './train-options.js';

/** The last call's routing of each MoE layer of `model`, by path (`block1/ffn`). */
export function routingByPath(model: tf.LayersModel): Record<string, RoutingStats> {
  const out: Record<string, RoutingStats> = {};
  for (const {path, layer} of walkLayers(model)) {
    if (layer instanceof MoE && layer.lastRoutingStats) out[path] = layer.lastRoutingStats;
  }
  return out;
}

/**
 * Routing metrics of the forward pass that just ran, for the loss's metrics (so they reach the
 * progress line, metrics.jsonl and TensorBoard): `moe_load` — the worst layer's max/mean expert
 * load (1 = balanced, numExperts = collapsed) — and `moe_unused`, experts that got no token,
 * summed over layers; then each expert's load relative to its fair share, `moe/<layer path>/e<i>`
 * (1 = its share; they average 1 over a layer), and, given the model's auxiliary loss of the pass,
 * `moe/aux_loss` (the balancing terms as added to the loss, coefficients included), which
 * metrics.jsonl and TensorBoard keep per step and the progress line leaves out. Empty for models
 * without MoE layers.
 */
export function routingMetrics(model: tf.LayersModel, auxLoss?: tf.Scalar): Record<string, tf.Scalar> {
  const recorded = recordedLoads(model);
  if (recorded.length > 0) return recordedMetrics(recorded, auxLoss);
  const byPath = Object.entries(routingByPath(model));
  if (byPath.length === 0) return {};
  const stats = byPath.map(([, s]) => s);
  const out: Record<string, tf.Scalar> = {
    moe_load: tf.scalar(Math.max(...stats.map((s) => s.maxOverMean))),
    moe_unused: tf.scalar(stats.reduce((n, s) => n + s.unusedExperts, 0)),
  };
  for (const [path, s] of byPath) {
    for (const [i, n] of s.tokensPerExpert.entries()) {
      out[`${DETAIL_PREFIX}${path}/e${i}`] = tf.scalar(s.meanLoad > 0 ? n / s.meanLoad : 0);
    }
  }
  if (auxLoss) out[`${DETAIL_PREFIX}aux_loss`] = tf.clone(auxLoss);
  return out;
}

/** Each MoE layer's load tensor [E] of a pass run while a step was recorded, by path. */
function recordedLoads(model: tf.LayersModel): [string, MoE, tf.Tensor1D][] {
  const out: [string, MoE, tf.Tensor1D][] = [];
  for (const {path, layer} of walkLayers(model)) {
    const load = layer instanceof MoE ? layer.recordedLoad : undefined;
    if (load && !load.isDisposed) out.push([path, layer as MoE, load]);
  }
  return out;
}

/** `routingMetrics` computed in TensorFlow from the layers' load tensors: a captured step returns them. */
function recordedMetrics(
  loads: [string, MoE, tf.Tensor1D][],
  auxLoss?: tf.Scalar,
): Record<string, tf.Scalar> {
  const relative = loads.map(([path, , load]) => {
    // load / (T·k / E): 1 is the expert's fair share.
    return [path, tf.div(load, tf.div(tf.sum(load), load.shape[0]))] as const;
  });
  const out: Record<string, tf.Scalar> = {
    moe_load: tf.max(tf.stack(relative.map(([, r]) => tf.max(r)))) as tf.Scalar,
    moe_unused: tf.addN(
      loads.map(([, , load]) => tf.sum(tf.cast(tf.equal(load, 0), 'float32'))),
    ) as tf.Scalar,
  };
  for (const [path, r] of relative) {
    tf.unstack(r).forEach((v, i) => {
      out[`${DETAIL_PREFIX}${path}/e${i}`] = v as tf.Scalar;
    });
  }
  if (auxLoss) out[`${DETAIL_PREFIX}aux_loss`] = tf.clone(auxLoss);
  return out;
}

/** Metrics under this prefix are per-expert detail: logged, not shown on the progress line. */
export const DETAIL_PREFIX = 'moe/';

/**
 * A check to run on each step event: the warning of the first MoE layer whose routing has
 * collapsed (one expert past `maxOverMean` × its fair share), at most once every `every` steps.
 * Given the step's metrics with routingMetrics' per-expert loads, it reads those (a replayed
 * captured step updates no layer's `lastRoutingStats`); else the layers' last stats.
 */
export function routingAlarm(
  model: tf.LayersModel,
  options: {maxOverMean?: number; every?: number} = {},
): (step: number, metrics?: Readonly<Record<string, number>>) => string | undefined {
  const hasMoE = walkLayers(model).some(({layer}) => layer instanceof MoE);
  let lastWarned = -Infinity;
  return (step, metrics) => {
    if (!hasMoE || step - lastWarned < (options.every ?? 100)) return undefined;
    const byPath = routingByPath(model);
    for (const path of Object.keys(byPath)) {
      const loads = relativeLoads(metrics, path);
      if (loads) byPath[path] = {...byPath[path]!, ...loads};
    }
    for (const [name, stats] of Object.entries(byPath)) {
      const warning = routingCollapseWarning(stats, options.maxOverMean);
      if (warning) {
        lastWarned = step;
        return `${name} at step ${step}: ${warning}`;
      }
    }
    return undefined;
  };
}

/** The load fields of a layer's RoutingStats from routingMetrics' `moe/<path>/e<i>` (fair share 1). */
function relativeLoads(metrics: Readonly<Record<string, number>> | undefined, path: string) {
  const tokensPerExpert: number[] = [];
  for (let e = 0; metrics?.[`${DETAIL_PREFIX}${path}/e${e}`] !== undefined; e++) {
    tokensPerExpert.push(metrics[`${DETAIL_PREFIX}${path}/e${e}`]!);
  }
  if (tokensPerExpert.length === 0) return undefined;
  const maxLoad = Math.max(...tokensPerExpert);
  const unusedExperts = tokensPerExpert.filter((n) => n === 0).length;
  return {tokensPerExpert, meanLoad: 1, maxLoad, maxOverMean: maxLoad, unusedExperts};
}

/** `options.onStep` with the routing alarm in front: a collapse warning goes to `options.onInfo`. */
export function onStepWithRoutingAlarm(
  model: tf.LayersModel,
  options: {onStep?: (event: StepEvent) => void; onInfo?: (message: string) => void},
): (event: StepEvent) => void {
  const alarm = routingAlarm(model);
  return (event) => {
    const warning = alarm(event.step, event.metrics);
    if (warning) options.onInfo?.(`warning: ${warning}`);
    options.onStep?.(event);
  };
}
