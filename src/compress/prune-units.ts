import type * as tf from '@tensorflow/tfjs';
import {ModelError} from '../errors.js';
import {checkAmount, keptCount} from './prune-ffn.js';
import {type RebuildPlan, rebuildWith, sliceL1, type TopologyLayer, topIndices} from './prune-rebuild.js';

/** What structured pruning removed from each Dense hidden layer. */
export interface UnitPruneStats {
  /** The Dense layer whose units were removed (`block0_up`). */
  layer: string;
  /** The Dense layer that reads them (`block0_down`). */
  next: string;
  units_before: number;
  units_after: number;
}

/** A Dense layer whose output only one Dense layer reads: its units can go with that layer's rows. */
export interface DenseUnitPair {
  layer: string;
  next: string;
  units: number;
}

type InboundNode = [string, number, number, unknown][];
type Topology = {
  config: {layers: (TopologyLayer & {inbound_nodes: InboundNode[]})[]; output_layers: unknown[][]};
};

/**
 * The Dense → Dense pairs of a functional model whose hidden units can be removed: the first is
 * used once, is not a model output, has an elementwise activation (not softmax, which mixes its
 * units), and feeds only the second — directly or through Dropout layers (elementwise too) — which
 * reads nothing else. In the numeric-feature classifier these are the residual blocks'
 * `block{i}_up` → `block{i}_down`, and `stem` → `logits` when there are no blocks; with blocks the
 * stem's units are the residual width the adds share, so it is not one.
 */
export function denseUnitPairs(model: tf.LayersModel): DenseUnitPair[] {
  const topology = model.toJSON(undefined, false) as unknown as Topology;
  const layers = topology.config.layers ?? [];
  const outputs = new Set((topology.config.output_layers ?? []).map((o) => o[0] as string));
  const readers = new Map<string, {layer: string; inputs: number}[]>();
  for (const layer of layers) {
    for (const node of layer.inbound_nodes ?? []) {
      for (const [from] of node) {
        readers.set(from, [...(readers.get(from) ?? []), {layer: layer.name, inputs: node.length}]);
      }
    }
  }
  const byName = new Map(layers.map((l) => [l.name, l]));
  /** The only layer reading `name`'s output, when it reads nothing else and `name` is no output. */
  const soleReader = (name: string) => {
    const next = readers.get(name);
    const reader = next?.length === 1 && next[0]!.inputs === 1 ? byName.get(next[0]!.layer) : undefined;
    return reader && reader.inbound_nodes.length === 1 && !outputs.has(name) ? reader : undefined;
  };
  return layers.flatMap((layer): DenseUnitPair[] => {
    if (layer.class_name !== 'Dense' || layer.inbound_nodes.length !== 1) return [];
    if (layer.config.activation === 'softmax') return [];
    let reader = soleReader(layer.name);
    while (reader?.class_name === 'Dropout') reader = soleReader(reader.name);
    return reader?.class_name === 'Dense'
      ? [{layer: layer.name, next: reader.name, units: layer.config.units as number}]
      : [];
  });
}

/**
 * Plans the removal of the fraction `amount` of the hidden units of every Dense → Dense pair (see
 * `denseUnitPairs`): unit j is column j of the first kernel and entry j of its bias, and row j of
 * the second kernel, scored by the L1 norm of all three. Each layer keeps round((1 − amount)·units).
 */
export function planUnits(model: tf.LayersModel, amount: number, plan: RebuildPlan): UnitPruneStats[] {
  checkAmount(amount);
  const pairs = denseUnitPairs(model);
  if (pairs.length === 0) {
    throw new ModelError(
      'structured pruning found no Dense hidden units to remove (a Dense layer read only by another Dense)',
      'numeric-feature classifiers with dense blocks have them; transformer models: use --structure ffn or heads',
    );
  }
  const byName = new Map(model.weights.map((w) => [w.originalName, w]));
  return pairs.map(({layer, next, units}) => {
    const kernel = byName.get(`${layer}/kernel`);
    const bias = byName.get(`${layer}/bias`);
    const nextKernel = byName.get(`${next}/kernel`);
    if (!kernel || !nextKernel) throw new ModelError(`${layer} → ${next}: kernels not found`);
    const [cols, rows] = [sliceL1(kernel.read(), 0), sliceL1(nextKernel.read(), 1)];
    const biases = bias ? (bias.read().dataSync() as Float32Array) : null;
    const scores = cols.map((c, j) => c + rows[j]! + Math.abs(biases?.[j] ?? 0));
    const kept = topIndices(scores, keptCount(units, amount));
    plan.keep(kernel, kept, 1);
    if (bias) plan.keep(bias, kept, 0);
    plan.keep(nextKernel, kept, 0);
    plan.config(layer, {units: kept.length});
    return {layer, next, units_before: units, units_after: kept.length};
  });
}

/**
 * Removes the fraction `amount` of the hidden units of every Dense → Dense pair (see `planUnits`).
 * Returns a new, smaller model with the outputs `model` gives when the removed units' weights are
 * zero, and the sizes per layer; `model` is left as it was.
 */
export async function pruneDenseUnits(
  model: tf.LayersModel,
  amount: number,
): Promise<{model: tf.LayersModel; layers: UnitPruneStats[]}> {
  const {model: pruned, stats} = await rebuildWith(model, (plan) => planUnits(model, amount, plan));
  return {model: pruned, layers: stats};
}
