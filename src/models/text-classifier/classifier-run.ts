import * as tf from '@tensorflow/tfjs';
import {ModelError} from '../../errors.js';
import type {LoadedRun} from '../../run/run-folder.js';
import type {Tokenizer} from '../../tokenizer/tokenizer.js';
import {type ClassifierConfig, encodeTexts} from './classifier.js';

/** A loaded classifier run: everything needed to turn texts into class probabilities. */
export interface ClassifierRun {
  dir: string;
  model: tf.LayersModel;
  tokenizer: Tokenizer;
  labels: string[];
  config: ClassifierConfig;
  /** Text and label field names the run was trained with. */
  textField: string;
  labelField: string;
}

/** Checks that a loaded run is a classifier with its tokenizer and labels. */
export function asClassifierRun(run: LoadedRun): ClassifierRun {
  if (run.config.task !== 'classify') {
    throw new ModelError(`${run.dir} is a "${run.config.task}" run, not a classifier`);
  }
  if (!run.tokenizer) throw new ModelError(`${run.dir} has no tokenizer.json`, 'copy the whole run folder');
  if (!run.labels) throw new ModelError(`${run.dir} has no labels.json`, 'copy the whole run folder');
  const config = run.config.model as ClassifierConfig;
  const data = (run.config.data ?? {}) as {textField?: string; labelField?: string};
  return {
    dir: run.dir,
    model: run.model,
    tokenizer: run.tokenizer,
    labels: run.labels,
    config,
    textField: data.textField ?? 'text',
    labelField: data.labelField ?? 'label',
  };
}

/** Class probabilities [texts.length × labels.length], row-major, computed `batchSize` texts at a time. */
export async function classifyTexts(
  run: ClassifierRun,
  texts: readonly string[],
  batchSize = 64,
): Promise<Float32Array> {
  const {maxLen} = run.config;
  const k = run.labels.length;
  const out = new Float32Array(texts.length * k);
  for (let start = 0; start < texts.length; start += batchSize) {
    const chunk = texts.slice(start, start + batchSize);
    const ids = await encodeTexts(run.tokenizer, chunk, maxLen);
    const probs = tf.tidy(() =>
      tf.softmax(run.model.predict(tf.tensor2d(ids, [chunk.length, maxLen], 'int32')) as tf.Tensor),
    );
    out.set(await probs.data(), start * k);
    probs.dispose();
  }
  return out;
}

/** Index of the largest of each row of `probs` (rows of `k`). */
export function argmaxRows(probs: Float32Array, k: number): Int32Array {
  const n = probs.length / k;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (probs[i * k + c]! > probs[i * k + best]!) best = c;
    out[i] = best;
  }
  return out;
}
