import {join} from 'node:path';
import {ConfigError} from '../errors.js';
import {OutputFile} from '../fs/output-file.js';
import {formatLanguageModelEvaluation} from '../models/causal-lm/causal-lm-evaluate.js';
import {formatClassificationMetrics} from '../models/classify/classification-metrics.js';
import type {BaselineEvaluation} from '../models/classify/tfidf-baseline.js';
import type {EvaluateOptions, RunEvaluation} from '../models/model-kind.js';
import {openRun} from '../models/registry.js';
import {MetricsLog, type MetricsRecord} from '../train/metrics-log.js';
import {evaluationHtml} from './evaluation-html.js';
import {formatBaselineComparison} from './evaluation-text.js';

export interface EvaluateRunOptions extends EvaluateOptions {
  /** Also fit TF-IDF + logistic regression on `baselineTrain` and score it on `data` (text classifiers). */
  baseline?: boolean;
  /** The baseline's training rows; default the run's training file. */
  baselineTrain?: string;
  /** Also write the evaluation as one self-contained HTML page here (charts inline). */
  html?: string;
}

/** The run's evaluation, with the baseline's beside it when asked, and where the page went. */
export type EvaluationReport = RunEvaluation & {baseline?: BaselineEvaluation; html?: string};

/**
 * `evaluate`: scores a run folder on a data file with its kind's metrics (accuracy, macro-F1,
 * per-class scores and the confusion matrix for classifiers; loss, perplexity and bits per byte for
 * language models); with `baseline`, the TF-IDF + logistic regression baseline on the same rows; with
 * `html`, a report page with the confusion matrix, per-class scores and the training curves.
 */
export async function evaluateRun(options: EvaluateRunOptions): Promise<EvaluationReport> {
  const {kind, run} = await openRun(options.model);
  try {
    if (options.baseline && !kind.baseline) {
      throw new ConfigError(`--baseline: ${kind.id} runs have no baseline`, 'it fits text classifiers only');
    }
    const result: EvaluationReport = await kind.evaluate(run, options);
    if (options.baseline) {
      result.baseline = await kind.baseline!(run, {
        data: options.data,
        train: options.baselineTrain,
        textField: options.textField,
        labelField: options.labelField,
      });
    }
    if (options.html) {
      const records = await MetricsLog.read(join(options.model, 'metrics.jsonl')).catch(
        () => [] as MetricsRecord[],
      );
      const out = await OutputFile.open(options.html, [options.data]);
      out.stream.end(
        evaluationHtml({
          evaluation: result,
          baseline: result.baseline,
          records,
          kind: kind.id,
          parameters: run.model.countParams(),
        }),
      );
      await out.commit();
      result.html = options.html;
    }
    return result;
  } finally {
    run.model.dispose();
  }
}

/** The human report of an evaluation: the classifier table (and the baseline against it), or a line per language-model figure. */
export function formatEvaluation(result: EvaluationReport): string {
  const {baseline, html: _html, ...evaluation} = result;
  if (evaluation.task !== 'classify') return formatLanguageModelEvaluation(evaluation);
  const table = formatClassificationMetrics(evaluation);
  return baseline ? `${table}\n\n${formatBaselineComparison(evaluation, baseline)}` : table;
}
