import {UserError} from '../errors.js';
import type {TrainRunOptions, TrainRunReport} from '../models/train-options.js';

export const TRAIN_TASKS = ['classify', 'lm'] as const;
export type TrainTask = (typeof TRAIN_TASKS)[number];

/** Trains a model of the task's family into `options.out`. */
export async function trainTask(task: TrainTask, options: TrainRunOptions): Promise<TrainRunReport> {
  if (task === 'classify') {
    const {trainClassifier} = await import('../models/text-classifier/classifier-train.js');
    return trainClassifier(options);
  }
  const lm = await optionalModule<{trainLanguageModel?: (o: TrainRunOptions) => Promise<TrainRunReport>}>(
    '../models/causal-lm/causal-lm-train.js',
  );
  if (!lm?.trainLanguageModel) throw new UserError('lm training not available yet', 'use --task classify');
  return lm.trainLanguageModel(options);
}

/** A module of the kit that may not be built yet (another family in progress), or undefined. */
export async function optionalModule<M>(specifier: string): Promise<M | undefined> {
  try {
    return (await import(specifier)) as M;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes(specifier.slice(2, -3)))
      return undefined;
    throw err;
  }
}
