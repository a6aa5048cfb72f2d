import {ModelError} from '../errors.js';
import type {PredictOptions, PredictReport} from '../models/model-kind.js';
import {openRun} from '../models/registry.js';

export interface PredictRunOptions extends PredictOptions {
  /** Run folder (runs/NAME) of a classifier (text, or numeric features: CSV/TSV/JSONL rows with its columns). */
  model: string;
}

/**
 * `predict`: streams rows through a classifier run: each output row is the input row with `label`
 * set to the predicted class and `probabilities` ({class: p}); a label the input already had moves
 * to `input_label`, so the two can be compared.
 */
export async function predictRun(options: PredictRunOptions): Promise<PredictReport> {
  const {kind, run} = await openRun(options.model);
  try {
    if (!kind.predict) {
      throw new ModelError(
        `predict works on classifier runs; ${options.model} is a "${kind.task}" run`,
        'use generate for language models',
      );
    }
    return await kind.predict(run, options);
  } finally {
    run.model.dispose();
  }
}
