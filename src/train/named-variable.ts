import type * as tf from '@tensorflow/tfjs';

/** A variable with the name a checkpoint stores it under. */
export interface NamedVariable {
  name: string;
  variable: tf.Variable;
}

/** A tensor with the name it is saved under. */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}
