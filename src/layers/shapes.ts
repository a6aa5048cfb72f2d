import type * as tf from '@tensorflow/tfjs';

// tfjs hands layers a shape or a list of shapes, a tensor or a list of tensors; the layers here take
// one input.

/** The (first) input shape. */
export function firstShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
  return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
}

/** The (first) input tensor. */
export function firstInput<T extends tf.Tensor = tf.Tensor>(inputs: tf.Tensor | tf.Tensor[]): T {
  return (Array.isArray(inputs) ? inputs[0]! : inputs) as T;
}
