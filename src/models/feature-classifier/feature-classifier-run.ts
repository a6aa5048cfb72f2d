import type * as tf from '@tensorflow/tfjs';
import {ModelError} from '../../errors.js';
import type {LoadedRun, RunConfig} from '../../run/run-folder.js';
import {argmaxRows, classificationMetrics} from '../classify/classification-metrics.js';
import {checkKnownLabels} from '../classify/labeled-data.js';
import type {ClassifierEvaluation, EvaluateOptions, OpenRun, RunMetric} from '../model-kind.js';
import {classifyFeatures, type FeatureClassifierConfig, type FeatureStats} from './feature-classifier.js';
import {featureVector, readFeatureRows} from './feature-data.js';

/** A loaded feature-classifier run: the model, its classes and the training features' statistics. */
export interface FeatureClassifierRun extends OpenRun {
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
    runConfig: run.config,
    model: run.model,
    labels: run.labels,
    config: run.config.model as FeatureClassifierConfig,
    stats,
    labelField: data.labelField ?? 'label',
  };
}

/** Class probabilities of rows (objects): each needs every feature column of the run, as a number. */
export async function classifyFeatureRows(
  run: FeatureClassifierRun,
  rows: readonly Record<string, unknown>[],
  batchSize?: number,
): Promise<Float32Array> {
  const {columns} = run.stats;
  const x = new Float32Array(rows.length * columns.length);
  rows.forEach((record, i) => {
    featureVector({record, row: i + 1, line: i + 1}, columns, 'rows', x, i * columns.length);
  });
  return classifyFeatures(run, x, batchSize);
}

/** Predicted and true class ids of the labeled rows of `data`, scored with `model`. */
async function scoreRows(
  run: FeatureClassifierRun,
  model: tf.LayersModel,
  data: string,
  options: {labelField?: string; batchSize?: number} = {},
) {
  const rows = await readFeatureRows(data, {
    features: run.stats.columns,
    labelField: options.labelField ?? run.labelField,
  });
  checkKnownLabels(
    rows.labels.map((label) => ({text: '', label, weight: 1})),
    run.labels,
    data,
  );
  const probs = await classifyFeatures({...run, model}, rows.x, options.batchSize);
  const index = new Map(run.labels.map((l, i) => [l, i]));
  return {
    predicted: argmaxRows(probs, run.labels.length),
    actual: rows.labels.map((l) => index.get(l)!),
  };
}

/** The classifier metrics of a numeric-feature run, on rows with its feature columns and labels. */
export async function evaluateFeatureClassifier(
  run: FeatureClassifierRun,
  options: EvaluateOptions,
): Promise<ClassifierEvaluation> {
  const {predicted, actual} = await scoreRows(run, run.model, options.data, options);
  const metrics = classificationMetrics(predicted, actual, run.labels);
  return {task: 'classify', model: options.model, data: options.data, ...metrics};
}

/** Accuracy of `model` (the run's, or a pruned or quantized copy) on the labeled rows of `data`. */
export async function featureClassifierAccuracy(
  run: FeatureClassifierRun,
  model: tf.LayersModel,
  data: string,
): Promise<RunMetric> {
  const {predicted, actual} = await scoreRows(run, model, data);
  return {accuracy: actual.filter((c, i) => c === predicted[i]).length / actual.length};
}
