import * as tf from '@tensorflow/tfjs';
import type {LayerArgs} from './arg-checks.js';

export interface MaskedMeanPoolArgs extends LayerArgs {
  /** Token id that marks padding; those positions are left out of the mean. Default 0 ([PAD]). */
  padId?: number;
}

/**
 * Mean of the hidden states over the real (non-padding) tokens: inputs [h [batch, seq, d], ids
 * [batch, seq]] → [batch, d]. A row of only padding gives zeros.
 */
export class MaskedMeanPool extends tf.layers.Layer {
  static className = 'MaskedMeanPool';
  readonly padId: number;

  constructor(args: MaskedMeanPoolArgs = {}) {
    super(args);
    this.padId = args.padId ?? 0;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const h = (inputShape as tf.Shape[])[0]!;
    return [h[0]!, h[2]!];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [h, ids] = inputs as tf.Tensor[];
      const mask = tf.cast(tf.notEqual(ids!, this.padId), 'float32'); // [batch, seq]
      const summed = tf.sum(tf.mul(h!, tf.expandDims(mask, -1)), 1); // [batch, d]
      return tf.div(summed, tf.maximum(tf.sum(mask, 1, true), 1));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {...super.getConfig(), padId: this.padId};
  }
}
tf.serialization.registerClass(MaskedMeanPool);
