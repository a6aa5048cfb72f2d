import * as tf from '@tensorflow/tfjs';
import {ModelError} from '../errors.js';
import {checkInt, checkPositive, type LayerArgs} from './arg-checks.js';
import {firstInput, firstShape} from './shapes.js';

export interface LearnedPositionsArgs extends LayerArgs {
  /** Positions the table holds: the longest sequence the model reads. */
  maxLength: number;
  /** Width of the vectors it is added to. */
  dModel: number;
  /** Standard deviation of the normal initialisation. Default 0.02 (GPT-2). */
  initStd?: number;
}

/**
 * Absolute learned position embeddings (GPT-2): x [batch, t, d] + table[offset .. offset + t). The
 * model's alternative to RoPE; `addAt` serves cached decoding, where new tokens start at `offset`.
 */
export class LearnedPositions extends tf.layers.Layer {
  static className = 'LearnedPositions';
  readonly maxLength: number;
  readonly dModel: number;
  readonly initStd: number;
  private table?: tf.LayerVariable;

  constructor(args: LearnedPositionsArgs) {
    super(args);
    this.maxLength = checkInt('LearnedPositions', 'maxLength', args.maxLength, 1);
    this.dModel = checkInt('LearnedPositions', 'dModel', args.dModel, 1);
    this.initStd = checkPositive('LearnedPositions', 'initStd', args.initStd ?? 0.02);
  }

  override build(): void {
    this.table = this.addWeight(
      'embeddings',
      [this.maxLength, this.dModel],
      'float32',
      tf.initializers.randomNormal({mean: 0, stddev: this.initStd}),
    );
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return firstShape(inputShape);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => this.addAt(firstInput(inputs) as tf.Tensor3D, 0));
  }

  /** x [batch, t, d] plus the vectors of positions offset .. offset + t − 1. */
  addAt(x: tf.Tensor3D, offset: number): tf.Tensor3D {
    if (!this.built) this.build();
    const length = x.shape[1];
    if (offset + length > this.maxLength) {
      throw new ModelError(
        `LearnedPositions '${this.name}': position ${offset + length - 1} is past the ${this.maxLength} the model was built for`,
        'keep prompt + generated tokens within the context length',
      );
    }
    return tf.tidy(() => tf.add(x, tf.slice(this.table!.read(), [offset, 0], [length, this.dModel])));
  }

  /**
   * x [batch, 1, d] plus, for each row b, the vector of position `positions[b]` (ragged batched
   * decoding); positions given as an int32 tensor [b] are not range-checked (a captured decoding
   * step passes them so, having checked them).
   */
  addRows(x: tf.Tensor3D, positions: readonly number[] | tf.Tensor1D): tf.Tensor3D {
    if (!this.built) this.build();
    const last = positions instanceof tf.Tensor ? 0 : Math.max(...positions);
    if (last >= this.maxLength) {
      throw new ModelError(
        `LearnedPositions '${this.name}': position ${last} is past the ${this.maxLength} the model was built for`,
        'keep prompt + generated tokens within the context length',
      );
    }
    return tf.tidy(() => {
      const ids = positions instanceof tf.Tensor ? positions : tf.tensor1d([...positions], 'int32');
      const rows = tf.gather(this.table!.read(), ids); // [b, d]
      return tf.add(x, tf.reshape(rows, [x.shape[0], 1, this.dModel])) as tf.Tensor3D;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {...super.getConfig(), maxLength: this.maxLength, dModel: this.dModel, initStd: this.initStd};
  }
}
tf.serialization.registerClass(LearnedPositions);
