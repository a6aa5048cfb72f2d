import type * as tf from '@tensorflow/tfjs';
import {ModelError} from '../errors.js';
import {checkAmount, keptCount, refuseLoRA} from './prune-ffn.js';
import {type RebuildPlan, rebuildWith, sliceL1, spans, topIndices} from './prune-rebuild.js';

/** What structured pruning removed from each attention layer. */
export interface HeadPruneStats {
  /** Block (or Attention layer) name. */
  layer: string;
  heads_before: number;
  heads_after: number;
  kv_heads_before: number;
  kv_heads_after: number;
  /** Size of each head, unchanged by pruning. */
  head_dim: number;
}

/** An attention layer of the model: a DecoderBlock's `attn`, or an Attention at the top level. */
interface AttentionSite {
  layer: tf.layers.Layer;
  /** Weight-name prefix of its projections (`block0/attn`). */
  prefix: string;
  config: {dModel: number; numHeads: number; numKvHeads?: number; headDim?: number};
}

/** The attention layers of `model` whose heads can be pruned. */
export function attentionSites(model: tf.LayersModel): AttentionSite[] {
  return model.layers.flatMap((layer): AttentionSite[] => {
    const kind = layer.getClassName();
    if (kind !== 'DecoderBlock' && kind !== 'Attention') return [];
    const config = layer.getConfig() as unknown as AttentionSite['config'];
    return [{layer, prefix: kind === 'DecoderBlock' ? `${layer.name}/attn` : layer.name, config}];
  });
}

/**
 * Plans the removal of the fraction `amount` of the attention heads of every attention layer.
 * With grouped-query attention a KV head goes with its group of query heads (they read only it),
 * so whole groups are removed; with as many KV as query heads, single heads. A head (or group) is
 * scored by the L1 norm of its q, k, v kernel columns and o kernel rows (Michel et al. 2019, "Are
 * Sixteen Heads Really Better than One?", show many heads can go; L1 as for FFN neurons). Every
 * layer keeps round((1 − amount)·groups) groups, so one numHeads/numKvHeads describes the model;
 * headDim is kept (written to the config, since dModel / numHeads no longer gives it).
 */
export function planHeads(model: tf.LayersModel, amount: number, plan: RebuildPlan): HeadPruneStats[] {
  checkAmount(amount);
  const sites = attentionSites(model);
  if (sites.length === 0) {
    throw new ModelError(
      'structured pruning found no attention heads to remove',
      "models without transformer blocks (the 'bag' preset, feature classifiers) have none; use --structure units or --method magnitude",
    );
  }
  const byName = new Map(model.weights.map((w) => [w.originalName, w]));
  return sites.map(({layer, prefix, config}) => {
    refuseLoRA(layer);
    const heads = config.numHeads;
    const kvHeads = config.numKvHeads ?? heads;
    const headDim = config.headDim ?? config.dModel / heads;
    const group = heads / kvHeads;
    const w = (site: string, part = 'kernel') => byName.get(`${prefix}/${site}/${part}`);
    const [q, k, v, o] = ['q', 'k', 'v', 'o'].map((site) => w(site));
    if (!q || !k || !v || !o) throw new ModelError(`${layer.name}: no attention q/k/v/o kernels`);
    const columns = [sliceL1(q.read(), 0), sliceL1(k.read(), 0), sliceL1(v.read(), 0)];
    const rows = sliceL1(o.read(), 1);
    // KV group j: query heads j·group … (j+1)·group − 1, kv head j.
    const scores = Array.from({length: kvHeads}, (_, j) => {
      let s = 0;
      for (const c of spans([j], group * headDim)) s += columns[0]![c]! + rows[c]!;
      for (const c of spans([j], headDim)) s += columns[1]![c]! + columns[2]![c]!;
      return s;
    });
    const keptGroups = topIndices(scores, keptCount(kvHeads, amount));
    const keptQ = spans(keptGroups, group * headDim);
    const keptKv = spans(keptGroups, headDim);
    for (const [site, kept] of [
      ['q', keptQ],
      ['k', keptKv],
      ['v', keptKv],
    ] as const) {
      plan.keep(w(site)!, kept, 1);
      const bias = w(site, 'bias');
      if (bias) plan.keep(bias, kept, 0);
    }
    plan.keep(o, keptQ, 0);
    const after = keptGroups.length;
    plan.config(layer.name, {num_heads: after * group, num_kv_heads: after, head_dim: headDim});
    return {
      layer: layer.name,
      heads_before: heads,
      heads_after: after * group,
      kv_heads_before: kvHeads,
      kv_heads_after: after,
      head_dim: headDim,
    };
  });
}

/**
 * Removes the fraction `amount` of the attention heads (or KV groups) of every attention layer
 * (see `planHeads`). Returns a new, smaller model — the same outputs as `model` with the removed
 * heads' o rows zeroed — and the sizes per layer; `model` is left as it was.
 */
export async function pruneAttentionHeads(
  model: tf.LayersModel,
  amount: number,
): Promise<{model: tf.LayersModel; layers: HeadPruneStats[]}> {
  const {model: pruned, stats} = await rebuildWith(model, (plan) => planHeads(model, amount, plan));
  return {model: pruned, layers: stats};
}
