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

/** Metrics under this prefix are per-expert detail: logged, not shown on the progress line. */
export const DETAIL_PREFIX = 'moe/';

/**
 * A check to run on each step event: the warning of the first MoE layer whose routing has
 * collapsed (one expert past `maxOverMean` × its fair share), at most once every `every` steps.
 */
export function routingAlarm(
  model: tf.LayersModel,
  options: {maxOverMean?: number; every?: number} = {},
): (step: number) => string | undefined {
  const hasMoE = walkLayers(model).some(({layer}) => layer instanceof MoE);
  let lastWarned = -Infinity;
  return (step) => {
    if (!hasMoE || step - lastWarned < (options.every ?? 100)) return undefined;
    for (const [name, stats] of Object.entries(routingByPath(model))) {
      const warning = routingCollapseWarning(stats, options.maxOverMean);
      if (warning) {
        lastWarned = step;
        return `${name} at step ${step}: ${warning}`;
      }
    }
    return undefined;
  };
}

/** `options.onStep` with the routing alarm in front: a collapse warning goes to `options.onInfo`. */
export function onStepWithRoutingAlarm(
  model: tf.LayersModel,
  options: {onStep?: (event: StepEvent) => void; onInfo?: (message: string) => void},
): (event: StepEvent) => void {
  const alarm = routingAlarm(model);
  return (event) => {
    const warning = alarm(event.step);
    if (warning) options.onInfo?.(`warning: ${warning}`);
    options.onStep?.(event);
  };
}
