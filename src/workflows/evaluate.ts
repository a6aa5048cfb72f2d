import {UserError} from '../errors.js';
import {
  type ClassificationMetrics,
  classificationMetrics,
} from '../models/classify/classification-metrics.js';
import {checkKnownLabels, readLabeledRows} from '../models/classify/labeled-data.js';
import {
  asFeatureClassifierRun,
  classifyFeatures,
  type FeatureClassifierRun,
  isFeatureRun,
} from '../models/feature-classifier/feature-classifier-run.js';
import {readFeatureRows} from '../models/feature-classifier/feature-data.js';
import {argmaxRows, asClassifierRun, classifyTexts} from '../models/text-classifier/classifier-run.js';
import {loadRun, readRunConfig} from '../run/run-folder.js';
import {optionalModule} from './train.js';

export interface EvaluateRunOptions {
  /** Run folder (runs/NAME). */
  model: string;
  /** Labeled data (classifiers) or text (.txt or JSONL, language models). */
  data: string;
  /** Field names; default those the run was trained with. */
  textField?: string;
  labelField?: string;
  /** Examples per forward pass. Default 64. */
  batchSize?: number;
}

export type ClassifierEvaluation = ClassificationMetrics & {task: 'classify'; model: string; data: string};

/** What `evaluate` reports: classifier metrics, or the language-model family's (loss, perplexity…). */
export type RunEvaluation = ClassifierEvaluation | ({task: string} & Record<string, unknown>);

/** Evaluates a run folder on a data file, for whichever task the run was trained for. */
export async function evaluateRun(options: EvaluateRunOptions): Promise<RunEvaluation> {
  const {task} = await readRunConfig(options.model);
  if (task === 'classify') return evaluateClassifier(options);
  const lm = await optionalModule<{
    evaluateLanguageModel?: (o: EvaluateRunOptions) => Promise<RunEvaluation>;
  }>('../models/causal-lm/causal-lm-evaluate.js');
  if (!lm?.evaluateLanguageModel) throw new UserError(`evaluating "${task}" runs is not available yet`);
  return lm.evaluateLanguageModel(options);
}

/** Accuracy, macro-F1, per-class precision/recall and the confusion matrix of a classifier run. */
export async function evaluateClassifier(options: EvaluateRunOptions): Promise<ClassifierEvaluation> {
  const loaded = await loadRun(options.model);
  if (isFeatureRun(loaded.config)) return evaluateFeatureClassifier(asFeatureClassifierRun(loaded), options);
  const run = asClassifierRun(loaded);
  try {
    const rows = await readLabeledRows(options.data, {
      textField: options.textField ?? run.textField,
      labelField: options.labelField ?? run.labelField,
    });
    checkKnownLabels(rows, run.labels, options.data);
    const probs = await classifyTexts(
      run,
      rows.map((r) => r.text),
      options.batchSize,
    );
    const index = new Map(run.labels.map((l, i) => [l, i]));
    const actual = rows.map((r) => index.get(r.label)!);
    const metrics = classificationMetrics(argmaxRows(probs, run.labels.length), actual, run.labels);
    return {task: 'classify', model: options.model, data: options.data, ...metrics};
  } finally {
    run.model.dispose();
  }
}

/** The same metrics for a numeric-feature classifier, on rows with its feature columns and labels. */
async function evaluateFeatureClassifier(
  run: FeatureClassifierRun,
  options: EvaluateRunOptions,
): Promise<ClassifierEvaluation> {
  try {
    const rows = await readFeatureRows(options.data, {
      features: run.stats.columns,
      labelField: options.labelField ?? run.labelField,
    });
    checkKnownLabels(
      rows.labels.map((label) => ({text: '', label, weight: 1})),
      run.labels,
      options.data,
    );
    const probs = await classifyFeatures(run, rows.x, options.batchSize);
    const index = new Map(run.labels.map((l, i) => [l, i]));
    const actual = rows.labels.map((l) => index.get(l)!);
    const metrics = classificationMetrics(argmaxRows(probs, run.labels.length), actual, run.labels);
    return {task: 'classify', model: options.model, data: options.data, ...metrics};
  } finally {
    run.model.dispose();
  }
}
