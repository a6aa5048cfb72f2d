import type * as tf from '@tensorflow/tfjs';
import {ConfigError, ModelError} from '../errors.js';
import {denseFfnBlocks, type FfnPruneStats, planFfnNeurons} from './prune-ffn.js';
import {attentionSites, type HeadPruneStats, planHeads} from './prune-heads.js';
import {RebuildPlan} from './prune-rebuild.js';
import {denseUnitPairs, planUnits, type UnitPruneStats} from './prune-units.js';

/** What `--method structured` can remove; `all` is every kind the model has. */
export const PRUNE_STRUCTURES = ['ffn', 'heads', 'units', 'all'] as const;
export type PruneStructure = (typeof PRUNE_STRUCTURES)[number];
type Kind = Exclude<PruneStructure, 'all'>;

/** One kind of structure removed: its sizes summed over the layers, and each layer's. */
export type StructurePruneStats =
  | ({structure: 'ffn'; layers: FfnPruneStats[]} & StructureTotals)
  | ({structure: 'heads'; layers: HeadPruneStats[]} & StructureTotals)
  | ({structure: 'units'; layers: UnitPruneStats[]} & StructureTotals);

interface StructureTotals {
  /** FFN neurons, query heads or Dense units over all layers, before and after. */
  before: number;
  after: number;
  /** Parameters this kind's removal took out of the model. */
  parameters_removed: number;
}

const PRESENT: Record<Kind, (model: tf.LayersModel) => unknown[]> = {
  ffn: denseFfnBlocks,
  heads: attentionSites,
  units: denseUnitPairs,
};

/** The kinds of structure `model` has, in the order they are pruned. */
export function structuresOf(model: tf.LayersModel): Kind[] {
  return (['ffn', 'heads', 'units'] as const).filter((kind) => PRESENT[kind](model).length > 0);
}

/**
 * Removes the fraction `amount` of each kind of structure `structure` names (`all`: every kind
 * `model` has) — SwiGLU FFN neurons, attention heads (whole KV groups under GQA), hidden units of
 * Dense → Dense pairs — by L1 norm, and rebuilds the smaller model once. `model` is left as it
 * was. Errors when the model has none of what was asked for.
 */
export async function pruneStructures(
  model: tf.LayersModel,
  amount: number,
  structure: PruneStructure = 'all',
): Promise<{model: tf.LayersModel; structures: StructurePruneStats[]}> {
  if (!(PRUNE_STRUCTURES as readonly string[]).includes(structure)) {
    throw new ConfigError(`unknown --structure '${structure}' — use one of ${PRUNE_STRUCTURES.join(', ')}`);
  }
  const kinds = structure === 'all' ? structuresOf(model) : [structure];
  if (kinds.length === 0) {
    throw new ModelError(
      'structured pruning found nothing to shrink: no dense SwiGLU FFN, attention heads or Dense hidden units',
      "models like the 'bag' preset or a one-layer feature classifier have none; use --method magnitude",
    );
  }
  const plan = new RebuildPlan();
  try {
    const structures = kinds.map((kind) => planKind(kind, model, amount, plan));
    return {model: await plan.apply(model), structures};
  } finally {
    plan.dispose();
  }
}

const PLANNERS = {ffn: planFfnNeurons, heads: planHeads, units: planUnits} as const;

/** A layer's neurons, query heads or units before and after. */
function sizes(l: FfnPruneStats | HeadPruneStats | UnitPruneStats): [number, number] {
  if ('hidden_before' in l) return [l.hidden_before, l.hidden_after];
  if ('heads_before' in l) return [l.heads_before, l.heads_after];
  return [l.units_before, l.units_after];
}

/** Plans one kind into `plan` and sums its sizes and the parameters it removes. */
function planKind(kind: Kind, model: tf.LayersModel, amount: number, plan: RebuildPlan): StructurePruneStats {
  const start = plan.removed;
  const layers = PLANNERS[kind](model, amount, plan);
  const both = layers.map(sizes);
  return {
    structure: kind,
    layers,
    before: both.reduce((n, [b]) => n + b, 0),
    after: both.reduce((n, [, a]) => n + a, 0),
    parameters_removed: plan.removed - start,
  } as StructurePruneStats;
}

/**
 * The run's model config (config.json `model`) after structured pruning, so that it describes the
 * saved model: `ffnHidden` after FFN neurons went; `numHeads`, `numKvHeads` (when the config has a
 * non-zero one) and `headDim` after heads went; for the numeric-feature classifier's units, `width`
 * when its `stem` shrank (no blocks) and `ffnHidden` when its blocks' `block{i}_up` did.
 */
export function prunedModelConfig(
  config: Record<string, unknown> | undefined,
  structures: readonly StructurePruneStats[],
): Record<string, unknown> | undefined {
  if (!config) return config;
  const next = {...config};
  for (const s of structures) {
    if (s.structure === 'ffn' && s.layers[0]) next.ffnHidden = s.layers[0].hidden_after;
    if (s.structure === 'heads' && s.layers[0] && s.after < s.before) {
      const heads = s.layers[0];
      next.numHeads = heads.heads_after;
      next.headDim = heads.head_dim;
      if (typeof config.numKvHeads === 'number' && config.numKvHeads > 0)
        next.numKvHeads = heads.kv_heads_after;
    }
    if (s.structure === 'units') {
      for (const l of s.layers) {
        if (l.layer === 'stem' && 'width' in config) next.width = l.units_after;
        if (/^block\d+_up$/.test(l.layer) && 'ffnHidden' in config) next.ffnHidden = l.units_after;
      }
    }
  }
  return next;
}
