import type {Task} from '../models/model-kind.js';
import {kindToTrain} from '../models/registry.js';
import type {TrainRunOptions, TrainRunReport} from '../models/train-options.js';

/**
 * `train`: reads the data, builds the model of the kind the task and options ask for (a text
 * classifier, a numeric-feature classifier with `features`, a causal LM) and trains it into the run
 * folder `options.out`.
 */
export async function trainRun(task: Task, options: TrainRunOptions): Promise<TrainRunReport> {
  return kindToTrain(task, options).train(options);
}
