import * as tf from '@tensorflow/tfjs';
import {Rng} from '../../src/data/rng.js';
import {arrayBatchSource, type BatchSource} from '../../src/train/batch-source.js';
import {accuracy, sparseCrossEntropy} from '../../src/train/losses.js';
import {type TrainableModel, trainableFromLayersModel} from '../../src/train/trainable.js';
import type {LossFn} from '../../src/train/trainer.js';

/** A labelled point: 3 classes, each a Gaussian blob in 4-D with its own centre. */
export interface Point {
  x: number[];
  label: number;
  weight?: number;
}

const CENTRES = [
  [2, 0, 0, 1],
  [0, 2, 0, -1],
  [0, 0, 2, 0],
];

/** Blobs far enough apart that a small MLP reaches > 90% accuracy, close enough that it must learn. */
export function blobs(n: number, seed: number): Point[] {
  const rng = new Rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  return Array.from({length: n}, (_, i) => {
    const label = i % 3;
    return {x: CENTRES[label]!.map((c) => c + 0.8 * gauss()), label};
  });
}

export function pointSource(
  points: readonly Point[],
  batchSize: number,
  seed = 1,
  shuffle = true,
): BatchSource {
  return arrayBatchSource(points, {
    batchSize,
    seed,
    shuffle,
    collate: (rows) => ({
      inputs: tf.tensor2d(rows.map((r) => r.x)),
      targets: tf.tensor1d(
        rows.map((r) => r.label),
        'int32',
      ),
      ...(rows.some((r) => r.weight !== undefined)
        ? {weights: tf.tensor1d(rows.map((r) => r.weight ?? 1))}
        : {}),
    }),
  });
}

/** A 4 → 16 → 3 MLP whose initial weights depend only on `seed`. */
export function mlp(seed = 7): tf.Sequential {
  const model = tf.sequential();
  model.add(
    tf.layers.dense({
      units: 16,
      inputShape: [4],
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({seed}),
    }),
  );
  model.add(tf.layers.dense({units: 3, kernelInitializer: tf.initializers.glorotUniform({seed: seed + 1})}));
  return model;
}

export function classifierLoss(model: tf.LayersModel): LossFn {
  return (batch, ctx) => {
    const logits = model.apply(batch.inputs, {training: ctx.training}) as tf.Tensor;
    return {
      loss: sparseCrossEntropy(logits, batch.targets, batch.weights),
      metrics: {acc: accuracy(logits, batch.targets)},
    };
  };
}

export function toy(seed = 7): {model: tf.Sequential; trainable: TrainableModel; loss: LossFn} {
  const model = mlp(seed);
  return {model, trainable: trainableFromLayersModel(model), loss: classifierLoss(model)};
}
