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
