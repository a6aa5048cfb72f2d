import * as tf from '@tensorflow/tfjs';
import {checkInt, checkPositive, type LayerArgs} from './arg-checks.js';
import {firstInput, firstShape} from './shapes.js';

export interface TokenEmbeddingArgs extends LayerArgs {
  /** Number of token ids; ids must be in [0, vocabSize). */
  vocabSize: number;
  /** Embedding width. */
  dModel: number;
  /** Standard deviation of the normal initialisation. Default 0.02 (GPT-2). */
  initStd?: number;
}

/**
 * Token ids [..., t] → vectors [..., t, dModel]. `logits(h)` multiplies by the transposed table, so a
 * model layer that owns this one can tie its output head to the input embedding (Press & Wolf 2017).
 */
export class TokenEmbedding extends tf.layers.Layer {
  static className = 'TokenEmbedding';
  readonly vocabSize: number;
  readonly dModel: number;
  readonly initStd: number;
  private table?: tf.LayerVariable;

  constructor(args: TokenEmbeddingArgs) {
    super(args);
    this.vocabSize = checkInt('TokenEmbedding', 'vocabSize', args.vocabSize, 1);
    this.dModel = checkInt('TokenEmbedding', 'dModel', args.dModel, 1);
    this.initStd = checkPositive('TokenEmbedding', 'initStd', args.initStd ?? 0.02);
  }

  override build(): void {
    this.table = this.addWeight(
      'embeddings',
      [this.vocabSize, this.dModel],
      'float32',
      tf.initializers.randomNormal({mean: 0, stddev: this.initStd}),
    );
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = firstShape(inputShape);
    if (isHidden(shape, this.dModel)) return [...shape.slice(0, -1), this.vocabSize];
    return [...shape, this.dModel];
  }

  /**
   * Ids [batch, t] → vectors; applied a second time in a model to hidden states [batch, t, dModel]
   * (float, rank 3), it is the tied output head: → logits [batch, t, vocabSize].
   */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = firstInput(inputs);
    if (x.dtype === 'float32' && isHidden(x.shape, this.dModel)) return this.logits(x);
    return tf.tidy(() => embedLookup(this.table!.read(), x));
  }

  /** Output logits with the tied table: h [..., dModel] → [..., vocabSize]. */
  logits(hidden: tf.Tensor): tf.Tensor {
    if (!this.built) this.build();
    return tf.tidy(() => {
      const flat = tf.reshape(hidden, [-1, this.dModel]);
      const out = tf.matMul(flat, this.table!.read(), false, true);
      return tf.reshape(out, [...hidden.shape.slice(0, -1), this.vocabSize]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {...super.getConfig(), vocabSize: this.vocabSize, dModel: this.dModel, initStd: this.initStd};
  }
}
tf.serialization.registerClass(TokenEmbedding);

/** Hidden states [batch, t, dModel], as opposed to token ids [batch, t]. */
function isHidden(shape: readonly (number | null)[], dModel: number): boolean {
  return shape.length === 3 && shape[2] === dModel;
}

/**
 * Rows of `table` [V, d] at `ids` [...] → [..., d]. A gather where the backend can take its gradient
 * (UnsortedSegmentSum); elsewhere (wasm) a one-hot matmul, which costs ids×V memory but trains.
 */
export function embedLookup(table: tf.Tensor, ids: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const [vocab, width] = table.shape as [number, number];
    const flat = tf.cast(tf.reshape(ids, [-1]), 'int32');
    const rows = canGatherWithGradient()
      ? tf.gather(table, flat)
      : tf.matMul(tf.cast(tf.oneHot(flat, vocab), 'float32'), table); // wasm's OneHot ignores a float dtype
    return tf.reshape(rows, [...ids.shape, width]);
  });
}

function canGatherWithGradient(): boolean {
  return tf.getKernel('UnsortedSegmentSum', tf.getBackend()) !== undefined;
}
