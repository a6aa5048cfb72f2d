// `clean --quality-model / --perplexity-model`: loads kit runs and turns them into the batch scorers
// of src/data/clean-model-check.ts (the mechanism, which knows nothing of models), then cleans.
import * as tf from '@tensorflow/tfjs';
import {type CleanOptions, type CleanReport, cleanDataset} from '../data/clean.js';
import type {BatchScorer, ModelCheck} from '../data/clean-model-check.js';
import {ConfigError} from '../errors.js';
import {asLanguageModelRun, type LanguageModelRun} from '../models/causal-lm/causal-lm-run.js';
import {classifyTexts} from '../models/text-classifier/classifier.js';
import {asClassifierRun} from '../models/text-classifier/classifier-run.js';
import {loadRun} from '../run/load-run.js';

export interface ModelCheckOptions {
  /** Classifier run (runs/NAME) whose probability of `qualityLabel` scores each row. */
  qualityModel?: string;
  /** The label of good rows. Default `good`. */
  qualityLabel?: string;
  /** Keep rows the classifier gives at least this probability of the label. Default 0.5. */
  minQuality?: number;
  /** Language-model run whose perplexity on each row scores it. */
  perplexityModel?: string;
  /** Keep rows of at most this perplexity (required with `perplexityModel`). */
  maxPerplexity?: number;
  /** Write the score onto each row under this field (with both models: the quality score here, the perplexity under `<field>_perplexity`). */
  scoreField?: string;
  /** Texts per forward pass. Default 64 for the classifier, 16 for the language model. */
  batchSize?: number;
}

/** A classifier run's probability of `label`, per text. */
export async function qualityScorer(
  model: string,
  label: string,
  batchSize = 64,
): Promise<{score: BatchScorer; dispose: () => void}> {
  const run = asClassifierRun(await loadRun(model));
  const index = run.labels.indexOf(label);
  if (index === -1) {
    run.model.dispose();
    throw new ConfigError(
      `${model} has no label "${label}"`,
      `its labels: ${run.labels.join(', ')} — pass one of them as --quality-label`,
    );
  }
  const k = run.labels.length;
  return {
    score: async (texts) => {
      const probs = await classifyTexts(run, texts, batchSize);
      return texts.map((_, i) => probs[i * k + index]!);
    },
    dispose: () => run.model.dispose(),
  };
}

/**
 * A language-model run's perplexity on each text: exp of the mean next-token cross-entropy over
 * the text's tokens, each predicted from the ones before it (the first from the end-of-text token
 * that separates documents in training, when the tokenizer has one). Texts longer than the model's
 * context are scored on their first `contextLength` tokens. NaN for a text with nothing to predict.
 */
export async function perplexityScorer(
  model: string,
  batchSize = 16,
): Promise<{score: BatchScorer; dispose: () => void}> {
  const run = asLanguageModelRun(await loadRun(model));
  return {score: (texts) => perplexities(run, texts, batchSize), dispose: () => run.model.dispose()};
}

async function perplexities(run: LanguageModelRun, texts: string[], batchSize: number): Promise<number[]> {
  const eos = run.tokenizer.special.eos;
  const context = run.config.contextLength;
  const encoded = await run.tokenizer.encodeBatch(texts);
  // Each row: [eos?, t1 … tn] as inputs, [t1 … tn, eos?] as targets, at most `context` of them.
  const rows = encoded.map((ids) => {
    const seq = [...(eos === undefined ? [] : [eos]), ...ids, ...(eos === undefined ? [] : [eos])];
    return seq.slice(0, context + 1);
  });
  const out = new Array<number>(texts.length).fill(Number.NaN);
  for (let start = 0; start < rows.length; start += batchSize) {
    const group = rows.slice(start, start + batchSize);
    const len = Math.max(1, ...group.map((r) => r.length - 1));
    const inputs = new Int32Array(group.length * len);
    const targets = new Int32Array(group.length * len);
    const mask = new Float32Array(group.length * len);
    for (const [b, r] of group.entries()) {
      for (let t = 0; t + 1 < r.length; t++) {
        inputs[b * len + t] = r[t]!;
        targets[b * len + t] = r[t + 1]!;
        mask[b * len + t] = 1;
      }
    }
    const nats = tf.tidy(() => {
      // Padding sits after each row's tokens, so the causal model never lets it change their logits.
      const logits = run.model.predict(tf.tensor2d(inputs, [group.length, len], 'int32')) as tf.Tensor3D;
      const vocab = logits.shape[2];
      const logp = tf.sum(
        tf.mul(tf.logSoftmax(logits), tf.oneHot(tf.tensor2d(targets, [group.length, len], 'int32'), vocab)),
        -1,
      );
      return tf.neg(tf.sum(tf.mul(logp, tf.tensor2d(mask, [group.length, len])), -1)); // [batch]
    });
    const sums = await nats.data();
    nats.dispose();
    for (const [b, r] of group.entries()) {
      if (r.length > 1) out[start + b] = Math.exp(sums[b]! / (r.length - 1));
    }
  }
  return out;
}

/** The checks the options ask for, with the models loaded; `dispose` frees them. */
export async function loadModelChecks(
  options: ModelCheckOptions,
): Promise<{checks: ModelCheck[]; dispose: () => void}> {
  const checks: ModelCheck[] = [];
  const disposers: (() => void)[] = [];
  const dispose = () => {
    for (const d of disposers) d();
  };
  try {
    if (options.qualityModel) {
      const min = options.minQuality ?? 0.5;
      if (!(min >= 0 && min <= 1))
        throw new ConfigError(`--min-quality must be a probability in [0, 1], got ${min}`);
      const s = await qualityScorer(options.qualityModel, options.qualityLabel ?? 'good', options.batchSize);
      disposers.push(s.dispose);
      checks.push({name: 'quality', score: s.score, min, reason: 'low_quality', field: options.scoreField});
    }
    if (options.perplexityModel) {
      const max = options.maxPerplexity;
      if (max === undefined || !(max > 1))
        throw new ConfigError(
          `--perplexity-model needs --max-perplexity, a perplexity above 1 (got ${max ?? 'none'})`,
          'score a sample of good rows with --score-field first and pick a bound above most of them',
        );
      const s = await perplexityScorer(options.perplexityModel, options.batchSize);
      disposers.push(s.dispose);
      const field =
        options.scoreField && options.qualityModel ? `${options.scoreField}_perplexity` : options.scoreField;
      checks.push({
        name: 'perplexity',
        score: s.score,
        max,
        reason: 'high_perplexity',
        field,
        batchSize: options.batchSize ?? 16,
      });
    }
  } catch (error) {
    dispose();
    throw error;
  }
  return {checks, dispose};
}

/** `cleanDataset` with the model checks the options ask for (the models are loaded first and freed after). */
export async function cleanWithModels(options: CleanOptions & ModelCheckOptions): Promise<CleanReport> {
  const {checks, dispose} = await loadModelChecks(options);
  try {
    return await cleanDataset({...options, checks: [...(options.checks ?? []), ...checks]});
  } finally {
    dispose();
  }
}
