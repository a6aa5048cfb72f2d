import type {Task} from '../models/model-kind.js';
import type {TrainRunOptions, TrainRunReport} from '../models/train-options.js';
import {DETAIL_PREFIX} from '../train/moe-monitor.js';
import type {TourContext} from './quickstart-stages.js';
import {trainRun} from './train.js';

/** The Switch balance-loss coefficient α of the tour's MoE layers (Switch Transformer's 1e-2). */
export const TOUR_AUX_LOSS_COEF = 0.01;

/** How one MoE layer spread its tokens: each routed expert's load relative to its fair share T·k/E. */
export interface LayerRouting {
  /** Path of the MoE layer (`block0/ffn`). */
  layer: string;
  /** [E] load / fair share, 1 = exactly its share; they average 1 over the layer. */
  load: number[];
}

/** The routing of a model at the end of training, from the training metrics of its last epoch. */
export interface RoutingSummary {
  layers: LayerRouting[];
  /** The largest load over all layers (1 = balanced, E = collapsed onto one expert). */
  max_load: number;
  /** The balancing terms as they were added to the loss (coefficient included), mean over the epoch. */
  aux_loss: number;
  /**
   * aux_loss / auxLossCoef / layers: the Switch balance loss E·Σ f_i·P_i per layer (Fedus et al. 2021,
   * eq. 4), 1 when routing is uniform, up to E when it collapses. Null without a coefficient.
   */
  balance_loss: number | null;
}

/**
 * The routing a training run ended with, read from its last epoch's mean metrics (`moe/<layer>/e<i>`
 * and `moe/aux_loss`, see routingMetrics); undefined when the model has no MoE layer.
 */
export function routingFromMetrics(
  metrics: Readonly<Record<string, number>>,
  auxLossCoef: number,
): RoutingSummary | undefined {
  const byLayer = new Map<string, number[]>();
  for (const [name, value] of Object.entries(metrics)) {
    const m = /^(.+)\/e(\d+)$/.exec(name.startsWith(DETAIL_PREFIX) ? name.slice(DETAIL_PREFIX.length) : '');
    if (!m) continue;
    const load = byLayer.get(m[1]!) ?? [];
    load[Number(m[2])] = value;
    byLayer.set(m[1]!, load);
  }
  if (byLayer.size === 0) return undefined;
  const layers = [...byLayer].map(([layer, load]) => ({layer, load: Array.from(load, (x) => x ?? 0)}));
  const aux = metrics[`${DETAIL_PREFIX}aux_loss`] ?? Number.NaN;
  return {
    layers,
    max_load: Math.max(...layers.flatMap((l) => l.load)),
    aux_loss: aux,
    balance_loss: auxLossCoef > 0 ? aux / auxLossCoef / layers.length : null,
  };
}

/** `block0/ffn: 1.21 0.93 … × fair share; balance loss 1.02 (1 = even, 8 = collapsed)`. */
export function formatRouting(r: RoutingSummary): string {
  const layers = r.layers.map((l) => `${l.layer} ${l.load.map((x) => x.toFixed(2)).join(' ')}`).join('; ');
  const experts = r.layers[0]?.load.length ?? 0;
  const balance =
    r.balance_loss === null
      ? `aux loss ${r.aux_loss.toFixed(4)}`
      : `balance loss ${r.balance_loss.toFixed(3)} (1 = even, ${experts} = collapsed)`;
  return `expert load × fair share: ${layers}; ${balance}`;
}

/** Keeps the mean of each step metric over the last `n` training steps: the routing "at the end". */
export function lastStepsMetrics(n = 50): {
  add: (metrics: Readonly<Record<string, number>>) => void;
  mean: () => Record<string, number>;
} {
  const window: Readonly<Record<string, number>>[] = [];
  return {
    add: (metrics) => {
      window.push(metrics);
      if (window.length > n) window.shift();
    },
    mean: () => {
      const sums: Record<string, number> = {};
      for (const m of window) for (const [k, v] of Object.entries(m)) sums[k] = (sums[k] ?? 0) + v;
      return Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / window.length]));
    },
  };
}

/** The routing's key figures for a stage row: none without MoE layers. */
export function routingFigures(r: RoutingSummary | undefined): Record<string, number> {
  return r ? {max_load: r.max_load, aux_loss: r.aux_loss, balance_loss: r.balance_loss ?? Number.NaN} : {};
}

/** The routing line under a stage's summary, indented under it; '' without MoE layers. */
export function routingLine(r: RoutingSummary | undefined): string {
  return r ? `\n          ${formatRouting(r)}` : '';
}

/**
 * Trains one of the tour's MoE models as the stage `stage` (its steps go to `ctx.onStep`), and reads
 * the routing it ends with from the mean of the last steps' metrics.
 */
export async function trainTourMoE(
  ctx: TourContext,
  stage: string,
  task: Task,
  options: TrainRunOptions,
): Promise<{report: TrainRunReport; routing?: RoutingSummary}> {
  const last = lastStepsMetrics();
  const report = await trainRun(task, {
    ...options,
    seed: ctx.seed,
    signal: ctx.signal,
    onStep: (e) => {
      last.add(e.metrics);
      ctx.onStep?.(stage, e);
    },
  });
  return {report, routing: routingFromMetrics(last.mean(), TOUR_AUX_LOSS_COEF)};
}
