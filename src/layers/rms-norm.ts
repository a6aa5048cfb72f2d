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
      return rmsNorm(firstInput(inputs), this.scale!.read(), this.epsilon);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {...super.getConfig(), epsilon: this.epsilon};
  }
}
tf.serialization.registerClass(RMSNorm);

/**
 * x / √(mean(x², −1) + ε) · scale over the last axis, with the gradient written out: with
 * r = 1/√(mean(x²) + ε) [..., 1], x̂ = x·r and dx̂ = dy·scale,
 *   ∂/∂x = r · (dx̂ − x̂ · mean(dx̂ · x̂, −1)),   ∂/∂scale = Σ dy · x̂ over every axis but the last.
 * 6 full-size kernels in the backward pass where differentiating the forward ops takes 10 (the
 * mean's gradient alone broadcasts through a tensor of ones).
 */
export function rmsNorm(x: tf.Tensor, scale: tf.Tensor, epsilon: number): tf.Tensor {
  const op = tf.customGrad(((input: tf.Tensor, gain: tf.Tensor, save: tf.GradSaveFunc) => {
    const r = tf.rsqrt(tf.add(tf.mean(tf.square(input), -1, true), epsilon)); // [..., 1]
    const normed = tf.mul(input, r);
    save([normed, r, gain]);
    return {
      value: tf.mul(normed, gain),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xn, rs, g] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const dxn = tf.mul(dy, g);
        const dx = tf.mul(rs, tf.sub(dxn, tf.mul(xn, tf.mean(tf.mul(dxn, xn), -1, true))));
        const dScale = tf.sum(tf.reshape(tf.mul(dy, xn), [-1, g.shape[0]!]), 0);
        return [dx, dScale];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  // A tidy: without a gradient tape the forward's intermediates are left in scope.
  return tf.tidy(() => (op as unknown as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor)(x, scale));
}
