import * as tf from '@tensorflow/tfjs';
import {DecoderBlock} from '../../src/layers/decoder-block.js';
import {MaskedMeanPool} from '../../src/layers/masked-mean-pool.js';
import {RMSNorm} from '../../src/layers/rms-norm.js';
import {TokenEmbedding} from '../../src/layers/token-embedding.js';
import {withSeededRandom} from '../../src/train/seeded-random.js';

export const VOCAB = 40;
export const SEQ = 6;

/**
 * ids [SEQ] → TokenEmbedding → DecoderBlock (MoE or dense SwiGLU) → RMSNorm → masked mean → Dense 3:
 * every kind of kit layer an exported classifier holds.
 */
export function kitClassifier(ffn: 'moe' | 'dense' = 'moe', seed = 1): tf.LayersModel {
  // Every initializer seeded: an unseeded MoE model sometimes routes a token differently once its
  // weights are quantized, which made tolerance checks on it pass or fail by chance.
  return withSeededRandom(seed, () => buildKitClassifier(ffn, seed));
}

function buildKitClassifier(ffn: 'moe' | 'dense', seed: number): tf.LayersModel {
  const ids = tf.input({shape: [SEQ], dtype: 'int32', name: 'ids'});
  let h = new TokenEmbedding({vocabSize: VOCAB, dModel: 16, name: 'embed', initStd: 0.5}).apply(
    ids,
  ) as tf.SymbolicTensor;
  h = new DecoderBlock({
    name: 'block0',
    dModel: 16,
    numHeads: 2,
    ffn,
    ffnHidden: 24,
    moe: ffn === 'moe' ? {numExperts: 4, topK: 2, expertHidden: 12, numShared: 1, seed} : null,
  }).apply(h) as tf.SymbolicTensor;
  h = new RMSNorm({name: 'final-norm'}).apply(h) as tf.SymbolicTensor;
  const pooled = new MaskedMeanPool({name: 'pool'}).apply([h, ids]) as tf.SymbolicTensor;
  const logits = tf.layers
    .dense({units: 3, name: 'logits', kernelInitializer: tf.initializers.glorotUniform({seed})})
    .apply(pooled) as tf.SymbolicTensor;
  return tf.model({inputs: ids, outputs: logits});
}

/** Deterministic token ids [rows, SEQ], some rows padded at the end with 0. */
export function sampleIds(rows: number): number[][] {
  return Array.from({length: rows}, (_, r) =>
    Array.from({length: SEQ}, (_, i) => (i > SEQ - 1 - (r % 3) ? 0 : 1 + ((r * 7 + i * 13) % (VOCAB - 1)))),
  );
}

export function predictRows(model: tf.LayersModel, ids: number[][]): number[][] {
  return tf.tidy(
    () => (model.predict(tf.tensor2d(ids, undefined, 'int32')) as tf.Tensor).arraySync() as number[][],
  );
}

export function maxDiff(a: number[][], b: number[][]): number {
  return Math.max(...a.flatMap((row, i) => row.map((v, j) => Math.abs(v - b[i]![j]!))));
}
