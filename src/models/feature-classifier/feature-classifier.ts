import * as tf from '@tensorflow/tfjs';
import {MoE} from '../../layers/moe.js';
import {StepDropout} from '../../layers/step-dropout.js';
import type {MoEOptions} from '../moe-config.js';

/**
 * The numeric-feature classifier: standardized features [batch, F] → Dense(width, relu) → numLayers
 * residual feed-forward blocks (a ReLU MLP, or a Mixture-of-Experts over examples) → logits.
 */
export interface FeatureClassifierConfig {
  /** Width of the hidden representation; tabular data with a handful of columns needs little. */
  width: number;
  /** Residual blocks after the input projection; 0 is a one-hidden-layer MLP. */
  numLayers: number;
  /** Block kind: a dense ReLU MLP, or an MoE whose tokens are the examples (each routed to topK experts). */
  ffn: 'dense' | 'moe';
  /** Hidden size of the dense block's MLP (2× width, as a small transformer FFN). */
  ffnHidden: number;
  /** MoE block: routed experts, experts per example, each expert's hidden size, always-on shared experts. */
  moe: {numExperts: number; topK: number; expertHidden: number; numShared: number} & MoEOptions;
  /** Dropout on each block's output and before the logits, in training; small data overfits. */
  dropout: number;
}

export const DEFAULT_FEATURE_CLASSIFIER_CONFIG: FeatureClassifierConfig = {
  width: 32,
  numLayers: 1,
  ffn: 'dense',
  ffnHidden: 64,
  moe: {numExperts: 4, topK: 2, expertHidden: 32, numShared: 0},
  dropout: 0.1,
};

export const FEATURE_CLASSIFIER_PRESETS: Readonly<Record<string, Partial<FeatureClassifierConfig>>> = {
  /** One hidden layer of 16: iris-sized problems. */
  tiny: {width: 16, numLayers: 0, ffnHidden: 32, dropout: 0},
  /** The default shape. */
  small: {},
  /** Two wider blocks for thousands of rows and dozens of columns. */
  base: {
    width: 128,
    numLayers: 2,
    ffnHidden: 256,
    moe: {numExperts: 8, topK: 2, expertHidden: 64, numShared: 1},
  },
};

/** One line per preset, for `train --help` (a test keeps the names equal to FEATURE_CLASSIFIER_PRESETS'). */
export const FEATURE_CLASSIFIER_PRESET_SUMMARIES: Readonly<Record<string, string>> = {
  tiny: 'one hidden layer of 16: iris-sized problems',
  small: 'width 32, one residual block (default)',
  base: 'width 128, two residual blocks',
};

/** Per-column mean and standard deviation of the training features, saved in the run's config.json. */
export interface FeatureStats {
  columns: string[];
  mean: number[];
  std: number[];
}

/**
 * Mean and (population) standard deviation of each column of x [n × columns.length], weighting
 * nothing: a column that never varies gets std 1, so it standardizes to 0 rather than dividing by 0.
 */
export function fitFeatureStats(columns: readonly string[], x: Float32Array): FeatureStats {
  const d = columns.length;
  const n = x.length / d;
  const mean = new Array<number>(d).fill(0);
  const sq = new Array<number>(d).fill(0);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += x[i * d + j]! / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) sq[j]! += (x[i * d + j]! - mean[j]!) ** 2 / n;
  const std = sq.map((v) => (Math.sqrt(v) > 1e-12 ? Math.sqrt(v) : 1));
  return {columns: [...columns], mean, std};
}

/** (x − mean) / std column by column: a new [n × d] array. */
export function standardize(x: Float32Array, stats: FeatureStats): Float32Array {
  const d = stats.columns.length;
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = (x[i]! - stats.mean[i % d]!) / stats.std[i % d]!;
  return out;
}

/** Builds the model over standardized features [batch, numFeatures] → logits [batch, numLabels]. */
export function buildFeatureClassifier(
  config: FeatureClassifierConfig,
  numFeatures: number,
  numLabels: number,
): tf.LayersModel {
  const input = tf.input({shape: [numFeatures], name: 'features'});
  let h = tf.layers
    .dense({units: config.width, activation: 'relu', name: 'stem'})
    .apply(input) as tf.SymbolicTensor;
  for (let i = 0; i < config.numLayers; i++) {
    let f: tf.SymbolicTensor;
    if (config.ffn === 'moe') {
      // Each example is one token [batch, width]: the router picks topK experts per example.
      f = new MoE({name: `block${i}_moe`, activation: 'relu', ...config.moe}).apply(h) as tf.SymbolicTensor;
    } else {
      const up = tf.layers.dense({units: config.ffnHidden, activation: 'relu', name: `block${i}_up`});
      const down = tf.layers.dense({units: config.width, name: `block${i}_down`});
      f = down.apply(up.apply(h)) as tf.SymbolicTensor;
    }
    if (config.dropout > 0)
      f = new StepDropout({rate: config.dropout, name: `block${i}_drop`}).apply(f) as tf.SymbolicTensor;
    h = tf.layers.add({name: `block${i}_residual`}).apply([h, f]) as tf.SymbolicTensor;
  }
  if (config.dropout > 0)
    h = new StepDropout({rate: config.dropout, name: 'head_drop'}).apply(h) as tf.SymbolicTensor;
  const logits = tf.layers.dense({units: numLabels, name: 'logits'}).apply(h) as tf.SymbolicTensor;
  return tf.model({inputs: input, outputs: logits, name: 'feature_classifier'});
}

/** Class probabilities [n × labels] of raw features x [n × columns] (standardized here), in batches. */
export async function classifyFeatures(
  run: {model: tf.LayersModel; labels: readonly string[]; stats: FeatureStats},
  x: Float32Array,
  batchSize = 256,
): Promise<Float32Array> {
  const d = run.stats.columns.length;
  const k = run.labels.length;
  const n = x.length / d;
  const z = standardize(x, run.stats);
  const out = new Float32Array(n * k);
  for (let start = 0; start < n; start += batchSize) {
    const rows = Math.min(batchSize, n - start);
    const probs = tf.tidy(() =>
      tf.softmax(
        run.model.predict(tf.tensor2d(z.subarray(start * d, (start + rows) * d), [rows, d])) as tf.Tensor,
      ),
    );
    out.set(await probs.data(), start * k);
    probs.dispose();
  }
  return out;
}
