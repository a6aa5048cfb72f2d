import {mkdir} from 'node:fs/promises';
import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {dropoutSeed, withDropoutSeed} from '../backend/dropout.js';
import {hash32} from '../data/rng.js';
import {ModelError} from '../errors.js';
import {addGradients, meanScalar} from './accumulate.js';
import {AdamW} from './adamw.js';
import {type Batch, disposeBatch, epochOrderSeed} from './batch-source.js';
import {
  checkFits,
  type LoadedCheckpoint,
  listCheckpoints,
  loadLatestCheckpoint,
  saveCheckpoint,
  settingChanges,
  type TrainerState,
} from './checkpoint.js';
import {clipFactor, globalNorm} from './clip.js';
import {TrainingDivergedError} from './diverged-error.js';
import {type EarlyStoppingState, updateEarlyStopping} from './early-stopping.js';
import {evaluateBatches} from './evaluate-batches.js';
import {
  CapturedSteps,
  graphStepsEnabled,
  oneBatchStep,
  type StepResult,
  type TrainStepLayout,
} from './graph-step.js';
import {MetricsLog, type MetricsRecord} from './metrics-log.js';
import type {NamedVariable} from './named-variable.js';
import {type LrSchedule, learningRateAt} from './schedule.js';
import {toTensor} from './tensor-file.js';
import {EventFileWriter} from './tensorboard.js';
import {
  checkTrainOptions,
  type EpochEvent,
  type StepContext,
  type StepEvent,
  type TrainOptions,
  type TrainResult,
} from './train-options.js';

export type {
  EpochEvent,
  EvalEvent,
  LossFn,
  LossOutput,
  StepContext,
  StepEvent,
  TrainHook,
  TrainOptions,
  TrainResult,
} from './train-options.js';

interface Pending {
  step: number;
  epoch: number;
  lr: number;
  examples: number;
  tokens: number;
  loss: tf.Scalar;
  metrics: Record<string, tf.Scalar>;
  gradNorm?: tf.Scalar;
}

/** Trains `options.model` with AdamW; see TrainOptions. Never prints: everything goes to callbacks. */
export async function train(options: TrainOptions): Promise<TrainResult> {
  return new Trainer(options).run();
}

class Trainer {
  private readonly params: readonly NamedVariable[];
  private readonly saved: readonly NamedVariable[];
  private readonly optimizer: AdamW;
  private readonly seed: number;
  private readonly accum: number;
  private readonly stepsPerEpoch: number;
  private readonly totalSteps: number;
  private readonly schedule: LrSchedule;
  private readonly logEvery: number;
  private step = 0;
  private epoch = 0;
  private batchIndex = 0;
  private elapsedBefore = 0;
  private readonly started = performance.now();
  private windowStart = performance.now();
  private pending: Pending[] = [];
  private epochTotals = {steps: 0, loss: 0, metrics: {} as Record<string, number>};
  private lastLoss = Number.NaN;
  private tokensThisRun = 0;
  private earlyState: EarlyStoppingState = {waited: 0};
  private best?: tf.Tensor[];
  private lastEval?: Record<string, number>;
  private bestEval?: Record<string, number>;
  private lastEvalStep = -1;
  private lastCheckpoint?: string;
  private lastCheckpointStep = -1;
  private log?: MetricsLog;
  private tensorboard?: EventFileWriter;
  /** One-batch steps replayed as TensorFlow functions (graph-step.ts), where they can be. */
  private readonly captured?: CapturedSteps<TrainStepLayout>;

  constructor(private readonly o: TrainOptions) {
    checkTrainOptions(o);
    this.params = o.model.trainable;
    this.saved = [...o.model.trainable, ...(o.model.nonTrainable ?? [])];
    this.seed = o.seed ?? 42;
    this.accum = o.gradAccum ?? 1;
    this.logEvery = o.logEvery ?? 10;
    this.stepsPerEpoch = Math.ceil(o.data.batchesPerEpoch / this.accum);
    this.totalSteps = o.steps ?? (o.epochs ?? 1) * this.stepsPerEpoch;
    this.schedule = {lr: o.lr ?? 1e-3, totalSteps: this.totalSteps, ...o.schedule};
    this.optimizer = new AdamW(this.params, o.optimizer);
    // A beforeUpdate hook acts between the gradients and the update, inside what would be captured.
    const hooksBetween = (o.hooks ?? []).some((h) => h.beforeUpdate);
    if (graphStepsEnabled() && this.optimizer.captureable && !hooksBetween) {
      this.captured = new CapturedSteps((reason) =>
        o.onWarning?.(`training steps run op by op, not captured as one TensorFlow function: ${reason}`),
      );
    }
  }

  async run(): Promise<TrainResult> {
    let stoppedBy: TrainResult['stoppedBy'] = 'steps';
    let resumedFrom: number | undefined;
    try {
      if (this.o.runDir) resumedFrom = await this.openRun(this.o.runDir);
      if (this.o.tensorboardDir) this.tensorboard = new EventFileWriter(this.o.tensorboardDir);
      while (this.step < this.totalSteps) {
        await this.trainStep();
        if (this.step % this.logEvery === 0) await this.flush();
        const endOfEpoch = this.batchIndex >= this.o.data.batchesPerEpoch;
        if (endOfEpoch) await this.endEpoch();
        const evalNow =
          typeof this.o.evalEvery === 'number' ? this.step % this.o.evalEvery === 0 : endOfEpoch;
        if (evalNow && (await this.validate())) stoppedBy = 'early_stopping';
        const every = this.o.checkpointEvery ?? 'epoch';
        if (typeof every === 'number' ? this.step % every === 0 : endOfEpoch) await this.checkpoint();
        if (stoppedBy === 'early_stopping') break;
        if (this.o.signal?.aborted) {
          stoppedBy = 'aborted';
          break;
        }
      }
      await this.flush();
      if (stoppedBy === 'steps' && this.lastEvalStep !== this.step) await this.validate();
      await this.checkpoint();
      if (this.best && (this.o.earlyStopping?.restoreBest ?? true)) {
        for (const [i, {variable}] of this.saved.entries()) variable.assign(this.best[i]!);
      }
      return this.result(stoppedBy, resumedFrom);
    } finally {
      for (const hook of this.o.hooks ?? []) hook.end?.();
      tf.dispose(this.pending.flatMap(pendingTensors));
      this.pending = [];
      tf.dispose(this.best ?? []);
      this.optimizer.dispose();
      this.captured?.dispose();
      this.tensorboard?.close();
    }
  }

  /** Loads the latest checkpoint when resuming; opens metrics.jsonl. Returns the step resumed from. */
  private async openRun(runDir: string): Promise<number | undefined> {
    const existing = await listCheckpoints(runDir);
    if (!this.o.resume) {
      await mkdir(runDir, {recursive: true});
      if (existing.length > 0) {
        throw new ModelError(
          `${runDir} already holds a run (checkpoints up to step ${existing.at(-1)})`,
          'resume it, or train into a new folder',
        );
      }
      this.log = await MetricsLog.open(join(runDir, 'metrics.jsonl'));
      return undefined;
    }
    const ckpt = await loadLatestCheckpoint(runDir);
    if (!ckpt)
      throw new ModelError(
        `${runDir} has no checkpoint to resume from`,
        'start it again with --overwrite instead of --resume',
      );
    this.restore(ckpt);
    this.log = await MetricsLog.open(join(runDir, 'metrics.jsonl'), this.step);
    return this.step;
  }

  private restore(ckpt: LoadedCheckpoint): void {
    const {state} = ckpt;
    checkFits(ckpt, this.saved);
    tf.tidy(() => {
      for (const [i, s] of ckpt.weights.entries()) this.saved[i]!.variable.assign(toTensor(s));
      this.optimizer.setState({step: state.step, slots: ckpt.optimizer.map(toTensor)});
    });
    if (ckpt.best) this.best = ckpt.best.map((s) => toTensor(s));
    this.step = state.step;
    this.epoch = state.data.epoch;
    this.batchIndex = state.data.batchIndex;
    this.elapsedBefore = Number(state.settings.elapsed ?? 0);
    this.earlyState = state.earlyStopping ?? {waited: 0};
    this.lastCheckpoint = ckpt.path;
    this.lastCheckpointStep = state.step;
    for (const change of settingChanges(state.settings, this.settings())) this.o.onWarning?.(change);
  }

  private settings(): Record<string, unknown> {
    const s = this.schedule;
    return {
      seed: this.seed,
      lr: s.lr,
      warmupSteps: s.warmupSteps ?? 0,
      decay: s.decay ?? 'cosine',
      minLrRatio: s.minLrRatio ?? 0.1,
      totalSteps: this.totalSteps,
      gradAccum: this.accum,
      clipNorm: this.o.clipNorm ?? 0,
      weightDecay: this.optimizer.weightDecay,
      batchesPerEpoch: this.o.data.batchesPerEpoch,
    };
  }

  /** One optimizer step: `accum` batches of gradients, clipped, then one fused AdamW update. */
  private async trainStep(): Promise<void> {
    const micro = Math.min(this.accum, this.o.data.batchesPerEpoch - this.batchIndex);
    const step = this.step + 1;
    const ctx: StepContext = {
      training: true,
      step,
      epoch: this.epoch,
      seed: hash32(`step:${step}`, this.seed),
    };
    for (const hook of this.o.hooks ?? []) hook.beforeStep?.(step);
    if (micro === 1 && this.captured) {
      const batch = await this.o.data.batch(this.epoch, this.batchIndex);
      // The dropout seed is one of the step's inputs: a replay draws this step's masks.
      const seed = dropoutSeed(ctx.seed);
      try {
        const lr = learningRateAt(step, this.schedule);
        const result = oneBatchStep(this.captured, {
          batch: [
            ...[batch.inputs].flat(),
            batch.targets,
            ...(batch.weights ? [batch.weights] : []),
            ...(seed ? [seed] : []),
          ],
          variables: this.params.map((p) => p.variable),
          optimizer: this.optimizer,
          lr,
          clip: this.o.clipNorm ?? 0,
          ctx,
          gradients: (watched) => withDropoutSeed(seed, () => this.gradients(batch, watched)),
        });
        this.finishStep(step, lr, 1, batch.size, batch.tokens ?? batch.size, result);
      } finally {
        disposeBatch(batch);
        seed?.dispose();
      }
      return;
    }
    let grads: Array<tf.Tensor | undefined> | undefined;
    const losses: tf.Scalar[] = [];
    const metricParts: Record<string, tf.Scalar[]> = {};
    let examples = 0;
    let tokens = 0;
    for (let k = 0; k < micro; k++) {
      const batch = await this.o.data.batch(this.epoch, this.batchIndex + k);
      examples += batch.size;
      tokens += batch.tokens ?? batch.size;
      const seed = dropoutSeed(ctx.seed, k);
      try {
        const out = withDropoutSeed(seed, () => this.gradients(batch, ctx));
        losses.push(out.loss);
        for (const [name, t] of Object.entries(out.metrics)) {
          metricParts[name] = [...(metricParts[name] ?? []), t];
        }
        grads = grads ? addGradients(grads, out.grads) : out.grads;
      } finally {
        disposeBatch(batch);
        seed?.dispose();
      }
    }
    for (const hook of this.o.hooks ?? []) hook.beforeUpdate?.(step);
    const lr = learningRateAt(step, this.schedule);
    const clip = this.o.clipNorm ?? 0;
    const {loss, metrics, gradNorm} = tf.tidy(() => {
      const present = grads!.filter((g): g is tf.Tensor => g !== undefined);
      // Gradients are sums over `micro` batches; one scale (mean, then clip) reaches AdamW as a
      // tensor. A single unclipped batch needs none, which saves a few ops per step.
      let scale = micro > 1 ? tf.scalar(1 / micro) : undefined;
      let norm: tf.Scalar | undefined;
      if (clip > 0) {
        norm = (scale ? tf.mul(globalNorm(present), scale) : globalNorm(present)) as tf.Scalar;
        const factor = clipFactor(norm, clip);
        scale = (scale ? tf.mul(scale, factor) : factor) as tf.Scalar;
      }
      this.optimizer.apply(grads!, lr, scale);
      return {
        loss: meanScalar(losses),
        metrics: Object.fromEntries(Object.entries(metricParts).map(([n, ts]) => [n, meanScalar(ts)])),
        gradNorm: norm,
      };
    });
    tf.dispose([
      ...(grads ?? []).filter((g) => g !== undefined),
      ...losses,
      ...Object.values(metricParts).flat(),
    ]);
    this.finishStep(step, lr, micro, examples, tokens, {loss, metrics, ...(gradNorm ? {gradNorm} : {})});
  }

  /** Queues a finished step's results for the next flush and advances the counters. */
  private finishStep(
    step: number,
    lr: number,
    micro: number,
    examples: number,
    tokens: number,
    r: StepResult,
  ): void {
    this.pending.push({step, epoch: this.epoch, lr, examples, tokens, ...r});
    this.step = step;
    this.batchIndex += micro;
    this.tokensThisRun += tokens;
  }

  /** Loss, metrics and gradients of one batch; one tape, one backward pass. */
  private gradients(
    batch: Batch,
    ctx: StepContext,
  ): {loss: tf.Scalar; metrics: Record<string, tf.Scalar>; grads: Array<tf.Tensor | undefined>} {
    const metrics: Record<string, tf.Scalar> = {};
    const {value, grads} = tf.variableGrads(
      () => {
        const out = this.o.loss(batch, ctx);
        if (out instanceof tf.Tensor) return out;
        for (const [name, t] of Object.entries(out.metrics ?? {})) metrics[name] = tf.keep(t);
        return out.loss;
      },
      this.params.map((p) => p.variable),
    );
    return {loss: value, metrics, grads: this.params.map((p) => grads[p.variable.name] ?? undefined)};
  }

  /** Reads the pending losses back in one transfer, checks them, logs them, emits step events. */
  private async flush(): Promise<void> {
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
    const elapsed = this.elapsedBefore + (now - this.started) / 1000;
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
          this.lastCheckpoint,
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

  private addToEpoch(loss: number, metrics: Record<string, number>): void {
    const t = this.epochTotals;
    t.steps += 1;
    t.loss += loss;
    for (const [name, value] of Object.entries(metrics)) t.metrics[name] = (t.metrics[name] ?? 0) + value;
  }

  private async endEpoch(): Promise<void> {
    await this.flush();
    const t = this.epochTotals;
    const metrics = Object.fromEntries(
      Object.entries(t.metrics).map(([n, v]) => [n, v / Math.max(1, t.steps)]),
    );
    const event: EpochEvent = {
      epoch: this.epoch,
      step: this.step,
      loss: t.loss / Math.max(1, t.steps),
      metrics,
    };
    this.o.onEpoch?.(event);
    await this.log?.append([
      {type: 'epoch', step: this.step, epoch: this.epoch, time: this.elapsed(), loss: event.loss, ...metrics},
    ]);
    this.epoch += 1;
    this.batchIndex = 0;
    this.epochTotals = {steps: 0, loss: 0, metrics: {}};
  }

  /** Runs validation; returns true when early stopping says stop. */
  private async validate(): Promise<boolean> {
    if (!this.o.validation && !this.o.evaluate) return false;
    await this.flush();
    const hooks = this.o.hooks ?? [];
    for (const hook of hooks) hook.beforeEval?.();
    let metrics: Record<string, number>;
    try {
      metrics = this.o.evaluate
        ? await this.o.evaluate({step: this.step, epoch: this.epoch})
        : await evaluateBatches(this.o.validation!, this.o.loss, {
            training: false,
            step: this.step,
            epoch: this.epoch,
            seed: this.seed,
          });
    } finally {
      for (const hook of hooks) hook.afterEval?.();
    }
    this.lastEval = metrics;
    this.lastEvalStep = this.step;
    let improved: boolean | undefined;
    let stop = false;
    const es = this.o.earlyStopping;
    if (es) {
      const verdict = updateEarlyStopping(es, this.earlyState, metrics, this.step);
      this.earlyState = verdict.state;
      improved = verdict.improved;
      stop = verdict.stop;
      if (improved) this.bestEval = metrics;
      if (improved && (es.restoreBest ?? true)) {
        tf.dispose(this.best ?? []);
        this.best = this.saved.map((v) => tf.clone(v.variable));
      }
    }
    this.o.onEval?.({
      step: this.step,
      epoch: this.epoch,
      metrics,
      ...(improved !== undefined ? {improved} : {}),
    });
    await this.log?.append([
      {type: 'eval', step: this.step, epoch: this.epoch, time: this.elapsed(), ...metrics},
    ]);
    this.scalars('val', metrics, this.step);
    return stop;
  }

  private async checkpoint(): Promise<void> {
    if (!this.o.runDir || this.lastCheckpointStep === this.step) return;
    await this.flush();
    const state: TrainerState = {
      step: this.step,
      data: {
        epoch: this.epoch,
        batchIndex: this.batchIndex,
        orderSeed: epochOrderSeed(this.seed, this.epoch),
      },
      rng: {seed: this.seed, scheme: 'counter'},
      earlyStopping: this.earlyState,
      settings: {...this.settings(), elapsed: this.elapsed()},
      savedAt: new Date().toISOString(),
    };
    const path = await saveCheckpoint(
      this.o.runDir,
      {
        state,
        weights: this.saved.map((v) => ({name: v.name, tensor: v.variable})),
        optimizer: this.optimizer.getState().slots,
        ...(this.best ? {best: this.best.map((tensor, i) => ({name: this.saved[i]!.name, tensor}))} : {}),
      },
      this.o.keepCheckpoints ?? 3,
    );
    this.lastCheckpoint = path;
    this.lastCheckpointStep = this.step;
    this.o.onCheckpoint?.({step: this.step, path});
  }

  private scalars(prefix: string, values: Record<string, number>, step: number): void {
    if (!this.tensorboard) return;
    for (const [name, value] of Object.entries(values))
      this.tensorboard.scalar(`${prefix}/${name}`, value, step);
  }

  private elapsed(): number {
    return this.elapsedBefore + (performance.now() - this.started) / 1000;
  }

  private result(stoppedBy: TrainResult['stoppedBy'], resumedFrom: number | undefined): TrainResult {
    const seconds = (performance.now() - this.started) / 1000;
    const es = this.o.earlyStopping;
    const best = this.earlyState.best;
    return {
      steps: this.step,
      epochsCompleted: this.epoch,
      stoppedBy,
      finalLoss: this.lastLoss,
      ...(this.lastEval ? {lastEval: this.lastEval} : {}),
      ...(es && best !== undefined
        ? {
            best: {
              metric: es.metric,
              value: best,
              step: this.earlyState.bestStep!,
              ...(this.bestEval ? {metrics: this.bestEval} : {}),
            },
          }
        : {}),
      tokensPerSecond: this.tokensThisRun / Math.max(1e-9, seconds),
      seconds,
      ...(this.lastCheckpoint ? {lastCheckpoint: this.lastCheckpoint} : {}),
      ...(resumedFrom !== undefined ? {resumedFrom} : {}),
      ...(this.captured ? {graphSteps: this.captured.report()} : {}),
    };
  }
}

function pendingTensors(p: Pending): tf.Tensor[] {
  const names = Object.keys(p.metrics).sort();
  return [p.loss, ...names.map((n) => p.metrics[n]!), ...(p.gradNorm ? [p.gradNorm] : [])];
}
