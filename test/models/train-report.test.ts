import {describe, expect, it} from 'vitest';
import {lmRunReport} from '../../src/models/causal-lm/causal-lm-train.js';
import {trainRunReport} from '../../src/models/train-options.js';
import type {TrainResult} from '../../src/train/train-options.js';

const earlyStopped: TrainResult = {
  steps: 40,
  epochsCompleted: 4,
  stoppedBy: 'early_stopping',
  finalLoss: 0.9,
  lastEval: {val_loss: 1.5, val_acc: 0.5},
  best: {metric: 'val_loss', value: 1.2, step: 20, metrics: {val_loss: 1.2, val_acc: 0.6}},
  tokensPerSecond: 1000,
  seconds: 3,
};

describe('train reports', () => {
  it('report the evaluation of the weights that were saved: the best one after early stopping', () => {
    const report = trainRunReport('classify', 'runs/x', earlyStopped, {
      parameters: 10,
      trainExamples: 90,
      valExamples: 10,
    });
    expect(report.validation).toEqual({val_loss: 1.2, val_acc: 0.6});
    expect(report.stopped_by).toBe('early_stopping');
    const {best: _, ...noEarlyStopping} = earlyStopped;
    expect(
      trainRunReport('classify', 'runs/x', noEarlyStopping, {
        parameters: 10,
        trainExamples: 90,
        valExamples: 10,
      }).validation,
    ).toEqual({val_loss: 1.5, val_acc: 0.5});
  });

  it('language models: the restored best evaluation with its perplexity, and windows as examples', () => {
    const streams = {train: new Int32Array(100), val: new Int32Array(20)};
    const report = lmRunReport('runs/lm', earlyStopped, 5, streams, 9);
    expect(report.validation?.val_loss).toBe(1.2);
    expect(report.validation?.val_ppl).toBeCloseTo(Math.exp(1.2), 12);
    expect(report.train_examples).toBe(11);
    expect(report.val_examples).toBe(2);
  });
});
