import * as tf from '@tensorflow/tfjs';
import {dropout} from '../backend/dropout.js';
import {checkRange, type LayerArgs} from './arg-checks.js';
import {firstInput} from './shapes.js';

export interface StepDropoutArgs extends LayerArgs {
  /** Fraction of the input zeroed in training, in [0, 1). */
  rate: number;
}

/**
 * Keras's Dropout (same class name, same config) whose training masks come from
 * src/backend/dropout.ts, so a trainer step that runs it can be captured; inference passes the input
 * through. Deliberately not registered: a saved model holds a standard `Dropout`, which the ONNX
 * export, unit pruning and other Keras readers know, and loads back as tfjs's own Dropout (the same
 * numbers in inference; its training steps run op by op).
 */
export class StepDropout extends tf.layers.Layer {
  static className = 'Dropout';
  readonly rate: number;

  constructor(args: StepDropoutArgs) {
    super(args);
    this.rate = checkRange('Dropout', 'rate', args.rate, 0, 1, false);
    this.supportsMasking = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: {training?: boolean}): tf.Tensor {
    return tf.tidy(() => {
      const x = firstInput(inputs);
      return kwargs?.training && this.rate > 0 ? dropout(x, this.rate) : x;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {...super.getConfig(), rate: this.rate};
  }
}
