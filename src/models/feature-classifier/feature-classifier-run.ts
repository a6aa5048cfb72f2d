import * as tf from '@tensorflow/tfjs';
import {ModelError} from '../../errors.js';
import type {LoadedRun, RunConfig} from '../../run/run-folder.js';
import {type FeatureClassifierConfig, type FeatureStats, standardize} from './feature-classifier.js';

/** A loaded feature-classifier run: the model, its classes and the training features' statistics. */
export interface FeatureClassifierRun {
  dir: string;
  model: tf.LayersModel;
  labels: string[];
  config: FeatureClassifierConfig;
  /** Feature columns in input order, with the mean and std they are standardized by. */
  stats: FeatureStats;
  /** Label field the run was trained with. */
  labelField: string;
}

/** Whether a run's config.json is a numeric-feature classifier (it carries feature statistics). */
export function isFeatureRun(config: RunConfig): boolean {
  return config.task === 'classify' && config.features !== undefined;
}

/** Checks that a loaded run is a feature classifier with labels and well-formed statistics. */
export function asFeatureClassifierRun(run: LoadedRun): FeatureClassifierRun {
  if (!isFeatureRun(run.config)) throw new ModelError(`${run.dir} is not a numeric-feature classifier run`);
  if (!run.labels) throw new ModelError(`${run.dir} has no labels.json`, 'copy the whole run folder');
  const stats = run.config.features as FeatureStats;
  const d = stats.columns?.length;
  if (!d || stats.mean?.length !== d || stats.std?.length !== d) {
    throw new ModelError(`${run.dir}/config.json: "features" needs columns, mean and std of equal length`);
  }
  const data = (run.config.data ?? {}) as {labelField?: string};
  return {
    dir: run.dir,
    model: run.model,
    labels: run.labels,
    config: run.config.model as FeatureClassifierConfig,
    stats,
    labelField: data.labelField ?? 'label',
  };
}

/** Class probabilities [n × labels] of raw features x [n × columns] (standardized here), in batches. */
export async function classifyFeatures(
  run: FeatureClassifierRun,
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
