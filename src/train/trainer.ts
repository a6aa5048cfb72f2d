import * as tf from '@tensorflow/tfjs';
import {dropoutSeed, withDropoutSeed} from '../backend/dropout.js';
import {hash32} from '../data/rng.js';
import {addGradients, meanScalar} from './accumulate.js';
import {AdamW} from './adamw.js';
import {type Batch, disposeBatch, epochOrderSeed} from './batch-source.js';
import {checkFits, type LoadedCheckpoint, settingChanges, type TrainerState} from './checkpoint.js';
import {clipFactor, globalNorm} from './clip.js';
import {type EarlyStoppingState, updateEarlyStopping} from './early-stopping.js';
import {evaluateBatches} from './evaluate-batches.js';
import {
  CapturedSteps,
  graphStepsEnabled,
  oneBatchStep,
  type StepResult,
  type TrainStepLayout,
} from './graph-step.js';
import type {NamedVariable} from './named-variable.js';
import {RunCheckpoints} from './run-checkpoints.js';
import {type LrSchedule, learningRateAt} from './schedule.js';
import {toTensor} from './tensor-file.js';
import {EventFileWriter} from './tensorboard.js';
import {checkTrainOptions, type StepContext, type TrainOptions, type TrainResult} from './train-options.js';
import {TrainReporter} from './train-reporter.js';

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
  private tokensThisRun = 0;
  private earlyState: EarlyStoppingState = {waited: 0};
  private best?: tf.Tensor[];
  private lastEval?: Record<string, number>;
  private bestEval?: Record<string, number>;
  private lastEvalStep = -1;
  private readonly reporter: TrainReporter;
  private readonly folder?: RunCheckpoints;
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
    this.reporter = new TrainReporter(o, this.totalSteps);
    if (o.runDir) this.folder = new RunCheckpoints(o.runDir, o);
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
      if (this.folder) {
        const ckpt = await this.folder.open();
        if (ckpt) this.restore(ckpt);
        resumedFrom = ckpt?.state.step;
        this.reporter.log = await this.folder.openLog(resumedFrom);
      }
      if (this.o.tensorboardDir) this.reporter.tensorboard = new EventFileWriter(this.o.tensorboardDir);
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
      this.reporter.close();
      tf.dispose(this.best ?? []);
      this.optimizer.dispose();
      this.captured?.dispose();
    }
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
    this.reporter.elapsedBefore = Number(state.settings.elapsed ?? 0);
    this.earlyState = state.earlyStopping ?? {waited: 0};
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
    if (this.captured) await this.capturedStep(this.captured, step, micro, ctx);
    else await this.eagerStep(step, micro, ctx);
  }

  /**
   * A step through `captured` (graph-step.ts): once its recordings agree, one TensorFlow function
   * call on the step's micro-batches, their dropout seeds, the parameters and AdamW's step values.
   */
  private async capturedStep(
    captured: CapturedSteps<TrainStepLayout>,
    step: number,
    micro: number,
    ctx: StepContext,
  ): Promise<void> {
    const batches: Batch[] = [];
    // Each micro-batch's dropout seed is one of the step's inputs: a replay draws this step's masks.
    const seeds = Array.from({length: micro}, (_, k) => dropoutSeed(ctx.seed, k));
    try {
      for (let k = 0; k < micro; k++) batches.push(await this.o.data.batch(this.epoch, this.batchIndex + k));
      const lr = learningRateAt(step, this.schedule);
      const result = oneBatchStep(captured, {
        batch: batches.flatMap((b, k) => [
          ...[b.inputs].flat(),
          b.targets,
          ...(b.weights ? [b.weights] : []),
          ...(seeds[k] ? [seeds[k]] : []),
        ]),
        variables: this.params.map((p) => p.variable),
        optimizer: this.optimizer,
        lr,
        clip: this.o.clipNorm ?? 0,
        ctx,
        gradients: (watched) => this.meanGradients(batches, seeds, watched),
      });
      const examples = batches.reduce((n, b) => n + b.size, 0);
      const tokens = batches.reduce((n, b) => n + (b.tokens ?? b.size), 0);
      this.finishStep(step, lr, micro, examples, tokens, result);
    } finally {
      for (const b of batches) disposeBatch(b);
      tf.dispose(seeds.filter((t) => t !== undefined));
    }
  }

  /** A step op by op: gradients summed over the micro-batches, the beforeUpdate hooks, the update. */
  private async eagerStep(step: number, micro: number, ctx: StepContext): Promise<void> {
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
    this.reporter.queue({step, epoch: this.epoch, lr, examples, tokens, ...r});
    this.step = step;
    this.batchIndex += micro;
    this.tokensThisRun += tokens;
  }

  /**
   * Mean loss, metrics and gradients of a step's micro-batches (`gradAccum`), each under its own
   * dropout seed: the form a captured step takes them in, gradients already divided by their count.
   */
  private meanGradients(
    batches: readonly Batch[],
    seeds: ReadonlyArray<tf.Tensor | undefined>,
    ctx: StepContext,
  ): {loss: tf.Scalar; metrics: Record<string, tf.Scalar>; grads: Array<tf.Tensor | undefined>} {
    const outs = batches.map((b, k) => withDropoutSeed(seeds[k], () => this.gradients(b, ctx)));
    if (outs.length === 1) return outs[0]!;
    const names = [...new Set(outs.flatMap((o) => Object.keys(o.metrics)))];
    const metrics = Object.fromEntries(
      names.map((n) => [n, meanScalar(outs.flatMap((o) => (o.metrics[n] ? [o.metrics[n]] : [])))]),
    );
    tf.dispose(outs.flatMap((o) => Object.values(o.metrics)));
    const sum = outs.map((o) => o.grads).reduce((a, b) => addGradients(a, b));
    return {
      loss: meanScalar(outs.map((o) => o.loss)),
      metrics,
      grads: sum.map((g) => g && tf.mul(g, 1 / outs.length)),
    };
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

  /** Reads the queued steps back and reports them. */
  private flush(): Promise<void> {
    return this.reporter.flush(this.folder?.last);
  }

  private async endEpoch(): Promise<void> {
    await this.flush();
    await this.reporter.endEpoch(this.epoch, this.step);
    this.epoch += 1;
    this.batchIndex = 0;
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
    await this.reporter.eval(this.step, this.epoch, metrics);
    return stop;
  }

  private async checkpoint(): Promise<void> {
    if (!this.folder || this.folder.lastStep === this.step) return;
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
      settings: {...this.settings(), elapsed: this.reporter.elapsed()},
      savedAt: new Date().toISOString(),
    };
    await this.folder.save({
      state,
      weights: this.saved.map((v) => ({name: v.name, tensor: v.variable})),
      optimizer: this.optimizer.getState().slots,
      ...(this.best ? {best: this.best.map((tensor, i) => ({name: this.saved[i]!.name, tensor}))} : {}),
    });
  }

  private result(stoppedBy: TrainResult['stoppedBy'], resumedFrom: number | undefined): TrainResult {
    const seconds = this.reporter.seconds();
    const es = this.o.earlyStopping;
    const best = this.earlyState.best;
    return {
      steps: this.step,
      epochsCompleted: this.epoch,
      stoppedBy,
      finalLoss: this.reporter.lastLoss,
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
      ...(this.folder?.last ? {lastCheckpoint: this.folder.last} : {}),
      ...(resumedFrom !== undefined ? {resumedFrom} : {}),
      ...(this.captured ? {graphSteps: this.captured.report()} : {}),
    };
  }
}
