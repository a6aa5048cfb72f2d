import * as tf from '@tensorflow/tfjs';
import {ConfigError} from '../../errors.js';
import {DecoderBlock} from '../../layers/decoder-block.js';
import {HashedBigrams} from '../../layers/hashed-bigrams.js';
import {MaskedMeanPool} from '../../layers/masked-mean-pool.js';
import {RMSNorm} from '../../layers/rms-norm.js';
import {StepDropout} from '../../layers/step-dropout.js';
import {TokenEmbedding} from '../../layers/token-embedding.js';
import type {Tokenizer} from '../../tokenizer/tokenizer.js';
import {forwardForPasses, type GraphForward} from '../../train/graph-forward.js';
import type {MoEOptions} from '../moe-config.js';

/** The text classifier: tokens → embedding → N pre-norm blocks → (RMSNorm) → masked mean pool → logits. */
export interface ClassifierConfig {
  /** Tokens per text: longer texts keep their first maxLen, shorter ones are padded. Reviews run ~230 words. */
  maxLen: number;
  /** Width of every block; small, as the fixtures have thousands (not millions) of rows. */
  dModel: number;
  /** Transformer blocks; 0 makes a bag of subword embeddings (fastText-like), best on a few thousand rows. */
  numLayers: number;
  /** Attention heads; must divide dModel (head size dModel / numHeads) unless headDim is set. */
  numHeads: number;
  /**
   * Size of each head; 0 means dModel / numHeads. Set by structured pruning of heads, which keeps
   * the head size and lowers numHeads, so a pruned run's config still builds its model.
   */
  headDim: number;
  /** Feed-forward kind: dense SwiGLU, or Mixture-of-Experts. */
  ffn: 'dense' | 'moe';
  /** SwiGLU hidden size for the dense FFN (LLaMA's 8/3·dModel, rounded). */
  ffnHidden: number;
  /**
   * MoE FFN: routed experts, experts per token, their hidden size, always-on shared experts; any of
   * the layer's other settings (scoring, capacityFactor, jitter, numGroups/topKGroups, zLossCoef,
   * biasUpdateSpeed…, see MoEOptions) may be added.
   */
  moe: {numExperts: number; topK: number; expertHidden: number; numShared: number} & MoEOptions;
  /** Dropout on each sublayer output and attention probabilities, in training; bag models (numLayers 0): on the embeddings. */
  dropout: number;
  /**
   * RMSNorm before pooling. Off by default: without it, tokens that carry no signal can shrink toward
   * zero and drop out of the mean (as bag-of-words regression gives stop words ~0 weight) — +3 points
   * of accuracy on the IMDB fixture; with it, every token weighs the same in the mean.
   */
  finalNorm: boolean;
  /** Tokenizer trained on the training texts: WordPiece (uncased, BERT-style) suits classification. */
  tokenizerKind: 'wordpiece' | 'bpe';
  /** Vocabulary of that tokenizer, specials included; a few thousand covers a small dataset's words. */
  vocabSize: number;
  /**
   * Bag models (numLayers 0): hash buckets for token bigrams, embedded beside the tokens and averaged
   * with them (fastText's word n-grams, HashedBigrams); 0 turns them off. Runs written before this key
   * have none (read them as 0).
   */
  bigramBuckets: number;
}

export const DEFAULT_CLASSIFIER_CONFIG: ClassifierConfig = {
  maxLen: 256,
  dModel: 64,
  numLayers: 2,
  numHeads: 4,
  headDim: 0,
  ffn: 'dense',
  ffnHidden: 176,
  moe: {numExperts: 4, topK: 2, expertHidden: 64, numShared: 1},
  dropout: 0.1,
  finalNorm: false,
  tokenizerKind: 'wordpiece',
  vocabSize: 8000,
  bigramBuckets: 0,
};

export const CLASSIFIER_PRESETS: Readonly<Record<string, Partial<ClassifierConfig>>> = {
  /** Seconds on a laptop core: for tests and smoke runs. */
  tiny: {maxLen: 128, dModel: 32, numLayers: 1, numHeads: 2, ffnHidden: 88, vocabSize: 2000},
  /** The default shape: two blocks of 64. */
  small: {},
  /**
   * No blocks: the mean of subword embeddings (fastText-like). On a few thousand rows transformer
   * blocks overfit: on the IMDB fixture (1,783 training rows) this reaches 0.86 test accuracy where
   * one or two blocks reach 0.78–0.79.
   */
  bag: {maxLen: 512, numLayers: 0, dropout: 0, vocabSize: 16000},
  /**
   * small with a DeepSeekMoE feed-forward in each block: 4 routed SwiGLU experts of 64 (top-2) and
   * one shared, softmax router with the Switch balance loss; any MoE setting can be changed in
   * --config under `moe`.
   */
  'small-moe': {ffn: 'moe'},
  /**
   * fastText's supervised model (Joulin et al. 2017): the bag with hashed token bigrams averaged in,
   * which adds local word order ("not good"). On bench:quality's validation splits the bigrams gave
   * IMDB +1.8 points over `bag` (0.8825 vs 0.8649) and left the topic sets within 0.3; 32 wide rather
   * than 64: the same accuracy (IMDB 0.8825 vs 0.8784) at half the time, as every step updates the
   * whole table.
   */
  fasttext: {maxLen: 512, numLayers: 0, dModel: 32, dropout: 0, vocabSize: 16000, bigramBuckets: 32768},
  /** Two wider blocks, longer context. */
  base: {maxLen: 384, dModel: 128, numLayers: 2, numHeads: 4, ffnHidden: 344, vocabSize: 16000},
};

/** One line per preset, for `train --help` (a test keeps the names equal to CLASSIFIER_PRESETS'). */
export const CLASSIFIER_PRESET_SUMMARIES: Readonly<Record<string, string>> = {
  tiny: '1 block of 32, maxLen 128, 2k vocab: seconds, for tests',
  small: '2 blocks of 64, maxLen 256, 8k vocab (default under --config)',
  'small-moe': 'small with MoE FFNs: 4 experts of 64 (top-2) + 1 shared',
  bag: 'no blocks: the mean of subword embeddings, 16k vocab',
  base: '2 blocks of 128, maxLen 384, 16k vocab',
  fasttext: 'bag + hashed bigrams (fastText), 32 wide: the automatic choice',
};

/** The name of the classifier's output Dense, the head that fine-tuning may replace. */
export const CLASSIFIER_HEAD = 'logits';

/**
 * Builds the classifier over ids [batch, maxLen] int32 → logits [batch, numLabels]. Attention in the
 * kit's blocks is causal; with padding at the end, real tokens never attend to padding, and the mean
 * over all real positions lets every token's (left-context) state vote — no attention mask needed.
 */
export function buildClassifier(
  config: ClassifierConfig,
  vocabSize: number,
  numLabels: number,
  padId = 0,
): tf.LayersModel {
  const ids = tf.input({shape: [config.maxLen], dtype: 'int32', name: 'ids'});
  const buckets = config.bigramBuckets ?? 0;
  if (buckets > 0 && config.numLayers > 0) {
    throw new ConfigError(
      `bigramBuckets ${buckets} needs a bag model (numLayers 0), got numLayers ${config.numLayers}`,
      'set bigramBuckets: 0 for transformer blocks, or use --preset bag',
    );
  }
  // Tokens, then their hashed bigrams: [batch, 2·maxLen − 1], padding where either token is padding.
  const tokens =
    buckets > 0
      ? (new HashedBigrams({vocabSize, buckets, padId, name: 'bigrams'}).apply(ids) as tf.SymbolicTensor)
      : ids;
  let h = new TokenEmbedding({vocabSize: vocabSize + buckets, dModel: config.dModel, name: 'embed'}).apply(
    tokens,
  ) as tf.SymbolicTensor;
  for (let i = 0; i < config.numLayers; i++) {
    h = new DecoderBlock({
      name: `block${i}`,
      dModel: config.dModel,
      numHeads: config.numHeads,
      headDim: config.headDim || undefined,
      ffn: config.ffn,
      ffnHidden: config.ffnHidden,
      moe: config.ffn === 'moe' ? config.moe : null,
      attnDropout: config.dropout,
      residDropout: config.dropout,
    }).apply(h) as tf.SymbolicTensor;
  }
  // A bag has no sublayers: its dropout (if any) falls on the embeddings before the mean.
  if (config.numLayers === 0 && config.dropout > 0) {
    h = new StepDropout({rate: config.dropout, name: 'embed-dropout'}).apply(h) as tf.SymbolicTensor;
  }
  if (config.finalNorm) h = new RMSNorm({name: 'final-norm'}).apply(h) as tf.SymbolicTensor;
  const pooled = new MaskedMeanPool({padId, name: 'pool'}).apply([h, tokens]) as tf.SymbolicTensor;
  const logits = tf.layers
    .dense({units: numLabels, name: CLASSIFIER_HEAD})
    .apply(pooled) as tf.SymbolicTensor;
  return tf.model({inputs: ids, outputs: logits, name: 'classifier'});
}

/** Token ids of each text, cut to maxLen and padded at the end: [texts.length × maxLen], row-major. */
export async function encodeTexts(
  tokenizer: Tokenizer,
  texts: readonly string[],
  maxLen: number,
): Promise<Int32Array> {
  const pad = tokenizer.special.pad ?? 0;
  const out = new Int32Array(texts.length * maxLen).fill(pad);
  const chunk = 512;
  for (let start = 0; start < texts.length; start += chunk) {
    const encoded = await tokenizer.encodeBatch(texts.slice(start, start + chunk));
    encoded.forEach((ids, j) => {
      out.set(ids.length > maxLen ? ids.slice(0, maxLen) : ids, (start + j) * maxLen);
    });
  }
  return out;
}

/** How classifyTexts runs its forward passes. */
export interface ClassifyTextsOptions {
  /**
   * The captured forward pass to run full batches through (a caller that classifies many times, as
   * `predict` over a stream or a server, keeps one); by default classifyTexts makes its own when it
   * runs enough full batches to pay (forwardForPasses), and disposes it.
   */
  forward?: GraphForward;
  /** Told once when forward passes cannot be captured and run op by op. */
  onInfo?: (message: string) => void;
}

/** Class probabilities [texts.length × labels.length], row-major, computed `batchSize` texts at a time. */
export async function classifyTexts(
  run: {model: tf.LayersModel; tokenizer: Tokenizer; labels: readonly string[]; config: {maxLen: number}},
  texts: readonly string[],
  batchSize = 64,
  options: ClassifyTextsOptions = {},
): Promise<Float32Array> {
  const {maxLen} = run.config;
  const k = run.labels.length;
  const out = new Float32Array(texts.length * k);
  const own = options.forward
    ? undefined
    : forwardForPasses(run.model, batchSize, Math.floor(texts.length / batchSize), options.onInfo);
  const forward = options.forward ?? own;
  try {
    for (let start = 0; start < texts.length; start += batchSize) {
      const chunk = texts.slice(start, start + batchSize);
      const ids = await encodeTexts(run.tokenizer, chunk, maxLen);
      const probs = tf.tidy(() => {
        const x = tf.tensor2d(ids, [chunk.length, maxLen], 'int32');
        return tf.softmax(forward ? forward.predict(x) : (run.model.predict(x) as tf.Tensor));
      });
      out.set(await probs.data(), start * k);
      probs.dispose();
    }
  } finally {
    own?.dispose();
  }
  return out;
}
