import type * as tf from '@tensorflow/tfjs';
import type {NamedVariable} from './named-variable.js';

/**
 * What the trainer updates and checkpoints. Checkpoints match variables by position and shape (names
 * are for people: tfjs numbers layer names per process, so a rebuilt model's names may differ).
 */
export interface TrainableModel {
  /** Variables the optimizer updates, in a stable order. */
  readonly trainable: readonly NamedVariable[];
  /** Other state a checkpoint holds (batch-norm statistics, frozen weights…). */
  readonly nonTrainable?: readonly NamedVariable[];
}

/** A Keras-style model's weights: trainable ones for the optimizer, all of them for checkpoints. */
export function trainableFromLayersModel(model: tf.LayersModel): TrainableModel {
  const named = (weights: tf.LayerVariable[]) =>
    weights.map((w) => ({name: w.name, variable: w.read() as tf.Variable}));
  return {trainable: named(model.trainableWeights), nonTrainable: named(model.nonTrainableWeights)};
}

/** Variables of a function-built model, named by their keys. */
export function trainableFromVariables(variables: Readonly<Record<string, tf.Variable>>): TrainableModel {
  return {trainable: Object.entries(variables).map(([name, variable]) => ({name, variable}))};
}
