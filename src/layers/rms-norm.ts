import * as tf from '@tensorflow/tfjs';
import {ModelError} from '../errors.js';
import {checkPositive, type LayerArgs} from './arg-checks.js';
import {firstInput, firstShape} from './shapes.js';

export interface RMSNormArgs extends LayerArgs {
  /** Added to the mean square before the square root. Default 1e-6 (as DeepSeek-V3 and LLaMA). */
  epsilon?: number;
}

/**
 * Root-mean-square norm over the last axis (Zhang & Sennrich 2019): y = x / sqrt(mean(x²) + eps) · g,
 * with a learnable gain g [d] that starts at one. No centring and no bias, unlike LayerNorm.
 */
export class RMSNorm extends tf.layers.Layer {
  static className = 'RMSNorm';
  readonly epsilon: number;
  private scale?: tf.LayerVariable;

  constructor(args: RMSNormArgs = {}) {
    super(args);
    this.epsilon = checkPositive('RMSNorm', 'epsilon', args.epsilon ?? 1e-6);
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = firstShape(inputShape);
    const dim = shape.at(-1);
    if (dim == null) throw new ModelError(`RMSNorm '${this.name}': the last input dimension must be known`);
    this.scale = this.addWeight('scale', [dim], 'float32', tf.initializers.ones());
    this.inputSpec = [{minNDim: 2, axes: {[-1]: dim}}];
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = firstInput(inputs);
      const meanSquare = tf.mean(tf.square(x), -1, true); // [..., 1]
      return tf.mul(tf.mul(x, tf.rsqrt(tf.add(meanSquare, this.epsilon))), this.scale!.read());
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {...super.getConfig(), epsilon: this.epsilon};
  }
}
tf.serialization.registerClass(RMSNorm);
