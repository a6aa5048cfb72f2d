import * as tf from '@tensorflow/tfjs';
import {countParameters} from '../../layers/walk-layers.js';
import {accuracy, modelLosses, sparseCrossEntropy} from '../../train/losses.js';
import {routingMetrics} from '../../train/moe-monitor.js';
import {withSeededRandom} from '../../train/seeded-random.js';
import type {LossFn, TrainResult} from '../../train/trainer.js';
import {type TrainRunOptions, type TrainRunReport, trainRunReport} from '../train-options.js';
import {withClassWeights} from './labeled-data.js';

/** Weighted cross-entropy of the classifier's logits (+ layer losses such as MoE aux in training), and accuracy. */
export function classifierLoss(model: tf.LayersModel): LossFn {
  return (batch, ctx) =>
    withSeededRandom(ctx.seed, () => {
      const logits = model.apply(batch.inputs, {training: ctx.training}) as tf.Tensor;
      const task = sparseCrossEntropy(logits, batch.targets, batch.weights);
      const aux = ctx.training ? modelLosses(model) : undefined;
      const total = aux ? tf.add(task, aux) : task;
      return {
        loss: total as tf.Scalar,
        metrics: {acc: accuracy(logits, batch.targets), ...(aux ? routingMetrics(model, aux) : {})},
      };
    });
}

/** What `train` reports of a finished classifier run. */
export function classifierReport(
  out: string,
  result: TrainResult,
  model: tf.LayersModel,
  trainExamples: number,
  valExamples: number,
): TrainRunReport {
  return trainRunReport('classify', out, result, {
    parameters: countParameters(model),
    trainExamples,
    valExamples,
  });
}

/** The training settings a classifier run records in config.json (checked on --resume). */
export function trainingSettings(
  options: TrainRunOptions,
  batchSize: number,
  seed: number,
): Record<string, number> {
  return {
    batchSize,
    lr: options.lr ?? 1e-3,
    seed,
    weightDecay: options.weightDecay ?? 0.01,
    clipNorm: options.clipNorm ?? 1,
  };
}

/**
 * `onError`/`onSkip` for the row readers from the run options: skipped rows are told to `onInfo`
 * (the first few in full, then a count every 100).
 */
export function skipSettings(options: TrainRunOptions): {
  onError?: 'fail' | 'skip';
  onSkip?: (e: Error) => void;
} {
  let skipped = 0;
  return {
    onError: options.onError,
    onSkip: (error) => {
      skipped++;
      if (skipped <= 5) options.onInfo?.(`warning: skipped ${error.message}`);
      else if (skipped % 100 === 0) options.onInfo?.(`warning: ${skipped} malformed rows skipped`);
    },
  };
}

/** Training rows' weights times `options.classWeights` (validation keeps its sample weights). */
export function classWeighted<T extends {labels: Int32Array; weights: Float32Array}>(
  data: T,
  numClasses: number,
  options: Pick<TrainRunOptions, 'classWeights'>,
): T {
  return {...data, weights: withClassWeights(data.labels, data.weights, numClasses, options.classWeights)};
}

/** Weight settings for config.json, only when not the defaults (so older runs still resume). */
export function weightSettings(options: TrainRunOptions): Record<string, string> {
  return {
    ...(options.weightField && options.weightField !== 'weight' ? {weightField: options.weightField} : {}),
    ...(options.classWeights === 'balanced' ? {classWeights: 'balanced'} : {}),
  };
}
