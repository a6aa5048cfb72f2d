import * as tf from '@tensorflow/tfjs';
import {forwardForPasses} from '../../train/graph-forward.js';
import type {EvaluateOptions, LanguageModelEvaluation, RunMetric} from '../model-kind.js';
import type {LanguageModelRun} from './causal-lm-run.js';
import {encodeDocuments, readTextDocuments} from './lm-data.js';

/** Loss, perplexity and bits per byte of a language-model run on a text file (.txt or rows). */
export async function evaluateLanguageModel(
  run: LanguageModelRun,
  options: EvaluateOptions,
): Promise<LanguageModelEvaluation> {
  const docs = await readTextDocuments(options.data, options.textField ?? run.textField);
  const stream = await encodeDocuments(run.tokenizer, docs);
  const scored = await scoreStream(run, stream, options.batchSize ?? 16, options.onInfo);
  const bytes = docs.reduce((n, d) => n + Buffer.byteLength(d, 'utf8'), 0);
  const loss = scored.nats / Math.max(1, scored.tokens);
  return {
    task: 'lm',
    model: options.model,
    data: options.data,
    loss,
    perplexity: Math.exp(loss),
    bits_per_byte: scored.nats / Math.LN2 / Math.max(1, bytes),
    tokens: scored.tokens,
    bytes,
    accuracy: scored.hits / Math.max(1, scored.tokens),
  };
}

/** One `name value` line per figure: counts as integers (`tokens 14893`), the rest to 4 decimals. */
export function formatLanguageModelEvaluation(e: LanguageModelEvaluation): string {
  return Object.entries(e)
    .map(([k, v]) => `${k} ${typeof v !== 'number' ? String(v) : Number.isInteger(v) ? v : v.toFixed(4)}`)
    .join('\n');
}

/** Perplexity of `model` (the run's, or a pruned or quantized copy) on the text of `data`. */
export async function languageModelPerplexity(
  run: LanguageModelRun,
  model: tf.LayersModel,
  data: string,
): Promise<RunMetric> {
  const docs = await readTextDocuments(data, run.textField);
  const scored = await scoreStream(
    {model, config: run.config},
    await encodeDocuments(run.tokenizer, docs),
    16,
  );
  return {perplexity: Math.exp(scored.nats / Math.max(1, scored.tokens))};
}

/** [nats, hits]: the summed next-token cross-entropy of `logits` [b, t, vocab] against `targets` [b, t], and the argmax hits. */
function sums(logits: tf.Tensor, [targets]: readonly tf.Tensor[]): tf.Tensor {
  const y = targets!;
  const vocab = logits.shape.at(-1)!;
  const perToken = tf.losses.softmaxCrossEntropy(
    tf.oneHot(y, vocab),
    logits,
    undefined,
    0,
    tf.Reduction.NONE,
  );
  const right = tf.cast(tf.equal(tf.argMax(logits, -1), y), 'float32');
  return tf.stack([tf.sum(perToken), tf.sum(right)]);
}

/**
 * Sum of next-token nats over every token of `stream` after the first, in windows of the model's
 * context (each window predicts its own tokens from its start; the last one may be shorter). Full
 * batches of whole windows run through a captured forward pass when there are enough of them
 * (forwardForPasses); `onInfo` hears once if capture is impossible.
 */
export async function scoreStream(
  run: Pick<LanguageModelRun, 'model' | 'config'>,
  stream: Int32Array,
  batchSize = 16,
  onInfo?: (message: string) => void,
): Promise<{nats: number; tokens: number; hits: number}> {
  const length = run.config.contextLength;
  const starts: number[] = [];
  for (let s = 0; s + 1 < stream.length; s += length) starts.push(s);
  const full = starts.filter((s) => s + length + 1 <= stream.length);
  // Full batches: the forward pass and `sums` in one captured function, two numbers read back.
  const forward = forwardForPasses(run.model, batchSize, Math.floor(full.length / batchSize), onInfo, sums);
  let nats = 0;
  let hits = 0;
  let tokens = 0;
  const score = async (group: number[], len: number) => {
    const inputs = new Int32Array(group.length * len);
    const targets = new Int32Array(group.length * len);
    group.forEach((s, i) => {
      inputs.set(stream.subarray(s, s + len), i * len);
      targets.set(stream.subarray(s + 1, s + len + 1), i * len);
    });
    const x = tf.tensor2d(inputs, [group.length, len], 'int32');
    const y = tf.tensor2d(targets, [group.length, len], 'int32');
    // A short group or window runs op by op (GraphForward.captures).
    const totals = forward
      ? forward.predict(x, y)
      : tf.tidy(() => sums(run.model.predict(x) as tf.Tensor, [y]));
    tf.dispose([x, y]);
    const [n, h] = await totals.data();
    totals.dispose();
    nats += n!;
    hits += h!;
    tokens += group.length * len;
  };
  try {
    for (let i = 0; i < full.length; i += batchSize) await score(full.slice(i, i + batchSize), length);
    const tail = starts.find((s) => s + length + 1 > stream.length);
    if (tail !== undefined) await score([tail], stream.length - 1 - tail);
  } finally {
    forward?.dispose();
  }
  return {nats, tokens, hits};
}
