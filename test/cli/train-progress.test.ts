import {Writable} from 'node:stream';
import {describe, expect, it} from 'vitest';
import {formatDuration, formatStepLine, TrainProgress} from '../../src/cli/train-progress.js';
import type {StepEvent} from '../../src/train/trainer.js';

const step = (n: number): StepEvent => ({
  step: n,
  totalSteps: 100,
  epoch: 1,
  loss: 0.43216,
  lr: 3e-4,
  metrics: {acc: 0.9123},
  examples: 16,
  tokens: 2048,
  tokensPerSecond: 12345,
  stepsPerSecond: 6,
  elapsed: 10,
  eta: 130,
});

function sink(tty: boolean) {
  const chunks: string[] = [];
  const stream = Object.assign(
    new Writable({
      write(chunk, _enc, done) {
        chunks.push(String(chunk));
        done();
      },
    }),
    {isTTY: tty, columns: 200},
  );
  return {stream, text: () => chunks.join('')};
}

describe('TrainProgress', () => {
  it('formats a step as one line: step, epoch, loss, metrics, lr, tokens/s, ETA', () => {
    expect(formatStepLine(step(20))).toBe(
      'step 20/100  epoch 2  loss 0.4322  acc 0.9123  lr 3.00e-4  12.35k tok/s  eta 2m10s',
    );
    // Per-expert detail is for metrics.jsonl and TensorBoard, not the line.
    const moe = {...step(20), metrics: {acc: 0.9123, moe_load: 1.25, 'moe/block0/ffn/e0': 0.75}};
    expect(formatStepLine(moe)).toBe(
      'step 20/100  epoch 2  loss 0.4322  acc 0.9123  moe_load 1.2500  lr 3.00e-4  12.35k tok/s  eta 2m10s',
    );
    expect(formatDuration(3725)).toBe('1h02m');
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe('?');
  });

  it('without a terminal prints plain lines, rate-limited, always the last step and every eval', () => {
    const {stream, text} = sink(false);
    const progress = new TrainProgress({stream, intervalMs: 60_000});
    for (let i = 1; i <= 100; i++) progress.onStep(step(i));
    progress.onEval({step: 100, epoch: 1, metrics: {val_loss: 0.5}, improved: true});
    progress.stop();
    const lines = text().trimEnd().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^step 1\/100 /),
      expect.stringMatching(/^step 100\/100 /),
      'eval  step 100  val_loss 0.5000  (best)',
    ]);
  });

  it('on a terminal draws a cli-progress bar with the loss and tokens/s', () => {
    const {stream, text} = sink(true);
    const progress = new TrainProgress({stream, bar: true});
    progress.onStep(step(50));
    progress.stop();
    expect(text()).toMatch(
      /train \[.*\] 50\/100 \| loss 0\.4322 \| acc 0\.912 \| lr 3\.00e-4 \| 12\.35k tok\/s \| eta 2m10s/,
    );
  });
});
