import * as tf from '@tensorflow/tfjs';
import {ModelError} from '../errors.js';

/** A layer of a model's serialized topology: tfjs writes config keys in snake_case (`ffn_hidden`). */
export interface TopologyLayer {
  class_name: string;
  name: string;
  config: Record<string, unknown>;
}

/**
 * A new model from `model`'s topology with some layer configs changed by `edit` (it mutates the
 * snake_case config of the layers it shrinks) and every weight taken from `weights` by name
 * (`block0/ffn/gate/kernel`), shapes checked. Weights of `model` not in `weights` are copied as
 * they are. The caller owns (and disposes) `model`, `weights` and the result.
 */
export async function rebuildModel(
  model: tf.LayersModel,
  edit: (layer: TopologyLayer) => void,
  weights: ReadonlyMap<string, tf.Tensor>,
): Promise<tf.LayersModel> {
  const topology = model.toJSON(undefined, false) as unknown as {config: {layers: TopologyLayer[]}};
  for (const layer of topology.config.layers) edit(layer);
  const rebuilt = await tf.models.modelFromJSON(
    topology as unknown as Parameters<typeof tf.models.modelFromJSON>[0],
  );
  const old = new Map(model.weights.map((w) => [w.originalName, w]));
  tf.tidy(() => {
    for (const w of rebuilt.weights) {
      const value = weights.get(w.originalName) ?? old.get(w.originalName)?.read();
      if (!value || value.shape.join() !== w.shape.join()) {
        rebuilt.dispose();
        throw new ModelError(
          `rebuilding the pruned model: weight ${w.originalName} [${w.shape}] has ${value ? `shape [${value.shape}]` : 'no value'}`,
        );
      }
      w.write(value);
    }
  });
  return rebuilt;
}

/** Indices of the `keep` largest scores, in ascending index order (so kept weights keep their order). */
export function topIndices(scores: ArrayLike<number>, keep: number): number[] {
  const order = Array.from({length: scores.length}, (_, i) => i);
  order.sort((a, b) => scores[b]! - scores[a]! || a - b);
  return order.slice(0, keep).sort((a, b) => a - b);
}

/**
 * What a structured pass changes before one rebuild: config keys per layer (snake_case, as
 * `rebuildModel` edits them) and the shrunken weights by name. Several passes (FFN neurons, heads,
 * Dense units) share one plan, so the model is rebuilt once. `dispose` frees the new weights.
 */
export class RebuildPlan {
  readonly configs = new Map<string, Record<string, unknown>>();
  readonly weights = new Map<string, tf.Tensor>();
  /** Parameters the planned weights have fewer than the model's. */
  removed = 0;

  /** Sets config keys of layer `name`, keeping the keys other passes set. */
  config(name: string, changes: Record<string, unknown>): void {
    this.configs.set(name, {...this.configs.get(name), ...changes});
  }

  /**
   * Plans `w` (or its latest planned value) with only the `kept` slices along `axis`; returns how
   * many parameters that removes.
   */
  keep(w: tf.LayerVariable, kept: readonly number[], axis: number): number {
    const current = this.weights.get(w.originalName) ?? w.read();
    const next = tf.tidy(() => tf.gather(current, tf.tensor1d(kept as number[], 'int32'), axis));
    if (this.weights.has(w.originalName)) current.dispose();
    this.weights.set(w.originalName, next);
    this.removed += current.size - next.size;
    return current.size - next.size;
  }

  /** The rebuilt model (the caller owns it and `model`). */
  apply(model: tf.LayersModel): Promise<tf.LayersModel> {
    return rebuildModel(
      model,
      (layer) => {
        const changes = this.configs.get(layer.name);
        if (changes) Object.assign(layer.config, changes);
      },
      this.weights,
    );
  }

  dispose(): void {
    tf.dispose([...this.weights.values()]);
    this.weights.clear();
  }
}

/** L1 norm of each column (`axis` 0) or row (`axis` 1) of a 2-D weight. */
export function sliceL1(w: tf.Tensor, axis: 0 | 1): Float32Array {
  return tf.tidy(() => tf.sum(tf.abs(w), axis).dataSync() as Float32Array);
}

/** Columns `index·width … index·width + width − 1` of each index: a head's slice of a projection. */
export function spans(indices: readonly number[], width: number): number[] {
  return indices.flatMap((i) => Array.from({length: width}, (_, c) => i * width + c));
}

/** Runs `planner` on a fresh plan and rebuilds `model` from it; the plan's tensors are freed after. */
export async function rebuildWith<S>(
  model: tf.LayersModel,
  planner: (plan: RebuildPlan) => S,
): Promise<{model: tf.LayersModel; stats: S}> {
  const plan = new RebuildPlan();
  try {
    const stats = planner(plan);
    return {model: await plan.apply(model), stats};
  } finally {
    plan.dispose();
  }
}
