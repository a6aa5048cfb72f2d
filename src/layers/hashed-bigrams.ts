import * as tf from '@tensorflow/tfjs';
import {checkInt, type LayerArgs} from './arg-checks.js';
import {firstInput, firstShape} from './shapes.js';

export interface HashedBigramsArgs extends LayerArgs {
  /** Token ids are below this; bigram ids follow it, in [vocabSize, vocabSize + buckets). */
  vocabSize: number;
  /** Hash buckets the bigrams share (fastText's `-bucket`, 2M there; a few tens of thousands here). */
  buckets: number;
  /** Padding id: a bigram with a padding token is padding too. Default 0. */
  padId?: number;
}

/** Multiplier of the hash: with ids below 2^16, 251·a + b stays below 2^24, exact in float32 (WebGL). */
export const BIGRAM_MULTIPLIER = 251;
/** Ids are reduced modulo this first: the largest prime below 2^16. */
export const BIGRAM_ID_RANGE = 65_521;

/**
 * Token ids [batch, t] → the tokens followed by their hashed bigrams [batch, 2t − 1], as fastText adds
 * word n-grams (Joulin et al. 2017, "Bag of Tricks for Efficient Text Classification", section 2.1):
 * the pair (a, b) at positions (i, i + 1) becomes vocabSize + (251·(a mod 65521) + b mod 65521) mod
 * buckets, and padding where either is padding, so a masked mean over the result averages unigram
 * and bigram embeddings of the real tokens. No weights: the embedding after it is vocabSize + buckets
 * rows. The arithmetic stays below 2^24, so float backends compute the same ids as int32 ones.
 */
export class HashedBigrams extends tf.layers.Layer {
  static className = 'HashedBigrams';
  readonly vocabSize: number;
  readonly buckets: number;
  readonly padId: number;

  constructor(args: HashedBigramsArgs) {
    super(args);
    this.vocabSize = checkInt('HashedBigrams', 'vocabSize', args.vocabSize, 1);
    this.buckets = checkInt('HashedBigrams', 'buckets', args.buckets, 1, 2 ** 24);
    this.padId = checkInt('HashedBigrams', 'padId', args.padId ?? 0, 0);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = firstShape(inputShape);
    const t = shape[1];
    return [shape[0]!, t === null || t === undefined ? null : Math.max(0, 2 * t - 1)];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const ids = tf.cast(firstInput(inputs), 'int32'); // [batch, t]
      const t = ids.shape[1]!;
      if (t < 2) return ids;
      const a = tf.slice(ids, [0, 0], [-1, t - 1]);
      const b = tf.slice(ids, [0, 1], [-1, t - 1]);
      const int = (x: number) => tf.scalar(x, 'int32'); // a bare number would make the math float
      const range = int(BIGRAM_ID_RANGE);
      const hashed = tf.mod(
        tf.add(tf.mul(tf.mod(a, range), int(BIGRAM_MULTIPLIER)), tf.mod(b, range)),
        int(this.buckets),
      );
      const pad = int(this.padId);
      const real = tf.logicalAnd(tf.notEqual(a, pad), tf.notEqual(b, pad));
      const bigrams = tf.where(
        real,
        tf.add(hashed, int(this.vocabSize)),
        tf.fill(a.shape, this.padId, 'int32'),
      );
      return tf.concat([ids, bigrams], 1);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {...super.getConfig(), vocabSize: this.vocabSize, buckets: this.buckets, padId: this.padId};
  }
}
tf.serialization.registerClass(HashedBigrams);
