import type * as tf from '@tensorflow/tfjs';
import {DatasetError} from '../errors.js';
import {argmaxRows} from '../models/classify/classification-metrics.js';
import {
  classifyFeatures,
  DEFAULT_FEATURE_CLASSIFIER_CONFIG,
} from '../models/feature-classifier/feature-classifier.js';
import {classifyTexts, DEFAULT_CLASSIFIER_CONFIG} from '../models/text-classifier/classifier.js';
import type {FeatureClassifierMetadata, TextClassifierMetadata} from './metadata.js';
import type {RuntimeTokenizer} from './tokenizer.js';

/** One row's answer: the most probable label and every label's probability. */
export interface Classification {
  label: string;
  probabilities: Record<string, number>;
}

/** A text classifier: texts → labels with probabilities, tokenized, cut and padded as the kit does. */
export class TextClassifier {
  readonly kind = 'text-classifier' as const;

  constructor(
    readonly model: tf.LayersModel,
    readonly tokenizer: RuntimeTokenizer,
    readonly metadata: TextClassifierMetadata,
  ) {}

  get labels(): readonly string[] {
    return this.metadata.labels;
  }

  /** Each text's label and probabilities, `batchSize` texts per forward pass (default 64). */
  async classify(texts: readonly string[], options: {batchSize?: number} = {}): Promise<Classification[]> {
    const {labels, maxLen} = this.metadata;
    // The kit's own batching, encoding (cut to maxLen, padded at the end) and softmax.
    const run = {
      dir: '',
      model: this.model,
      tokenizer: this.tokenizer,
      labels: [...labels],
      config: {...DEFAULT_CLASSIFIER_CONFIG, maxLen},
      textField: this.metadata.textField ?? 'text',
      labelField: this.metadata.labelField ?? 'label',
    };
    return classifications(await classifyTexts(run, texts, options.batchSize), labels);
  }

  dispose(): void {
    this.model.dispose();
  }
}

/** A numeric-feature row: values by column name, or in the columns' order. */
export type FeatureRow = Readonly<Record<string, unknown>> | readonly number[];

/** A numeric-feature classifier: rows of raw values → labels, standardized as in training. */
export class FeatureClassifier {
  readonly kind = 'feature-classifier' as const;

  constructor(
    readonly model: tf.LayersModel,
    readonly metadata: FeatureClassifierMetadata,
  ) {}

  get labels(): readonly string[] {
    return this.metadata.labels;
  }

  /** Each row's label and probabilities; a missing or non-numeric value is a DatasetError naming row and column. */
  async predict(rows: readonly FeatureRow[], options: {batchSize?: number} = {}): Promise<Classification[]> {
    const {labels, features} = this.metadata;
    const d = features.columns.length;
    const x = new Float32Array(rows.length * d);
    for (const [i, row] of rows.entries()) x.set(featureValues(row, features.columns, i), i * d);
    const run = {
      dir: '',
      model: this.model,
      labels: [...labels],
      config: DEFAULT_FEATURE_CLASSIFIER_CONFIG,
      stats: features,
      labelField: this.metadata.labelField ?? 'label',
    };
    return classifications(await classifyFeatures(run, x, options.batchSize), labels);
  }

  dispose(): void {
    this.model.dispose();
  }
}

/** A row's values in column order: numbers, or strings that read as numbers (a CSV cell). */
function featureValues(row: FeatureRow, columns: readonly string[], index: number): number[] {
  if (Array.isArray(row)) {
    if (row.length !== columns.length) {
      throw new DatasetError(
        `row ${index}: ${row.length} values, the model reads ${columns.length} (${columns.join(', ')})`,
      );
    }
  }
  return columns.map((column, j) => {
    const value = Array.isArray(row) ? row[j] : (row as Record<string, unknown>)[column];
    const x = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof x === 'number' && Number.isFinite(x)) return x;
    throw new DatasetError(
      value === undefined
        ? `row ${index} has no "${column}" (the model reads ${columns.join(', ')})`
        : `row ${index}: "${column}" is ${JSON.stringify(value)}, not a number`,
    );
  });
}

function classifications(probs: Float32Array, labels: readonly string[]): Classification[] {
  const k = labels.length;
  return Array.from(argmaxRows(probs, k), (best, i) => ({
    label: labels[best]!,
    probabilities: Object.fromEntries(labels.map((label, c) => [label, probs[i * k + c]!])),
  }));
}
