import * as tf from '@tensorflow/tfjs';
import {TrainingDivergedError} from './diverged-error.js';
import type {StepResult} from './graph-step.js';
import type {MetricsLog, MetricsRecord} from './metrics-log.js';
import type {EventFileWriter} from './tensorboard.js';
import type {EpochEvent, StepEvent, TrainOptions} from './train-options.js';

/** A finished step whose tensors are not read back yet. */
export interface PendingStep extends StepResult {
  step: number;
  epoch: number;
  lr: number;
  examples: number;
  tokens: number;
}

/**
 * What a run tells the world: the step, epoch and eval events, metrics.jsonl and TensorBoard. Steps
 * queue their loss tensors; `flush` reads them back in one transfer (a read-back per step would stall
 * the backend), checks them for divergence and reports them. Also the run's clock, which a resumed
 * run continues.
 */
export class TrainReporter {
  /** The last step's loss, once flushed. */
  lastLoss = Number.NaN;
  /** Seconds the run had trained before this process resumed it. */
  elapsedBefore = 0;
  log?: MetricsLog;
  tensorboard?: EventFileWriter;
  private readonly started = performance.now();
  private windowStart = performance.now();
  private pending: PendingStep[] = [];
  private epochTotals = {steps: 0, loss: 0, metrics: {} as Record<string, number>};

  constructor(
    private readonly o: Pick<TrainOptions, 'onStep' | 'onEpoch'>,
    private readonly totalSteps: number,
  ) {}

  /** Queues a finished step for the next flush. */
  queue(p: PendingStep): void {
    this.pending.push(p);
  }

  /**
   * Reads the pending losses back in one transfer, checks them, logs them, emits step events. A
   * non-finite loss or gradient norm throws TrainingDivergedError naming `lastCheckpoint`.
   */
  async flush(lastCheckpoint: string | undefined): Promise<void> {
    if (this.pending.length === 0) return;
    const pending = this.pending;
    this.pending = [];
    const layout = pending.map((p) => ({
      names: Object.keys(p.metrics).sort(),
      hasNorm: p.gradNorm !== undefined,
    }));
    const stacked = tf.stack(pending.flatMap(pendingTensors));
    const values = await stacked.data();
    tf.dispose([stacked, ...pending.flatMap(pendingTensors)]);
    const now = performance.now();
    const windowSeconds = Math.max(1e-9, (now - this.windowStart) / 1000);
    this.windowStart = now;
    const windowTokens = pending.reduce((s, p) => s + p.tokens, 0);
    const elapsed = this.elapsed();
    const stepsPerSecond = pending.length / windowSeconds;
    const records: MetricsRecord[] = [];
    let at = 0;
    for (const [i, p] of pending.entries()) {
      const loss = values[at++]!;
      const metrics: Record<string, number> = {};
      for (const name of layout[i]!.names) metrics[name] = values[at++]!;
      const gradNorm = layout[i]!.hasNorm ? values[at++]! : undefined;
      const bad = !Number.isFinite(loss)
        ? ['loss', loss]
        : gradNorm !== undefined && !Number.isFinite(gradNorm)
          ? ['gradient norm', gradNorm]
          : undefined;
      if (bad) {
        await this.log?.append(records);
        throw new TrainingDivergedError(
          p.step,
          bad[1] as number,
          bad[0] as 'loss' | 'gradient norm',
          lastCheckpoint,
        );
      }
      this.lastLoss = loss;
      this.addToEpoch(loss, metrics);
      const event: StepEvent = {
        step: p.step,
        totalSteps: this.totalSteps,
        epoch: p.epoch,
        loss,
        lr: p.lr,
        ...(gradNorm !== undefined ? {gradNorm} : {}),
        metrics,
        examples: p.examples,
        tokens: p.tokens,
        tokensPerSecond: windowTokens / windowSeconds,
        stepsPerSecond,
        elapsed,
        eta: (this.totalSteps - p.step) / stepsPerSecond,
      };
      this.o.onStep?.(event);
      const extra: Record<string, number> = gradNorm !== undefined ? {grad_norm: gradNorm} : {};
      records.push({
        type: 'step',
        step: p.step,
        epoch: p.epoch,
        time: elapsed,
        loss,
        lr: p.lr,
        ...extra,
        ...metrics,
        tokens_per_s: event.tokensPerSecond,
      });
      this.scalars('train', {loss, lr: p.lr, ...extra, ...metrics}, p.step);
    }
    await this.log?.append(records);
  }

  /** Reports the epoch's mean loss and metrics (call after a flush) and starts the next epoch's. */
  async endEpoch(epoch: number, step: number): Promise<void> {
    const t = this.epochTotals;
    const metrics = Object.fromEntries(
      Object.entries(t.metrics).map(([n, v]) => [n, v / Math.max(1, t.steps)]),
    );
    const event: EpochEvent = {epoch, step, loss: t.loss / Math.max(1, t.steps), metrics};
    this.o.onEpoch?.(event);
    await this.log?.append([
      {type: 'epoch', step, epoch, time: this.elapsed(), loss: event.loss, ...metrics},
    ]);
    this.epochTotals = {steps: 0, loss: 0, metrics: {}};
  }

  /** Logs a validation's metrics. */
  async eval(step: number, epoch: number, metrics: Record<string, number>): Promise<void> {
    await this.log?.append([{type: 'eval', step, epoch, time: this.elapsed(), ...metrics}]);
    this.scalars('val', metrics, step);
  }

  /** Seconds trained, the resumed run's included. */
  elapsed(): number {
    return this.elapsedBefore + this.seconds();
  }

  /** Seconds this process has trained. */
  seconds(): number {
    return (performance.now() - this.started) / 1000;
  }

  /** Drops unflushed steps' tensors and closes TensorBoard's file. */
  close(): void {
    tf.dispose(this.pending.flatMap(pendingTensors));
    this.pending = [];
    this.tensorboard?.close();
  }

  private addToEpoch(loss: number, metrics: Record<string, number>): void {
    const t = this.epochTotals;
    t.steps += 1;
    t.loss += loss;
    for (const [name, value] of Object.entries(metrics)) t.metrics[name] = (t.metrics[name] ?? 0) + value;
  }

  private scalars(prefix: string, values: Record<string, number>, step: number): void {
    if (!this.tensorboard) return;
    for (const [name, value] of Object.entries(values))
      this.tensorboard.scalar(`${prefix}/${name}`, value, step);
  }
}

function pendingTensors(p: PendingStep): tf.Tensor[] {
  const names = Object.keys(p.metrics).sort();
  return [p.loss, ...names.map((n) => p.metrics[n]!), ...(p.gradNorm ? [p.gradNorm] : [])];
}
