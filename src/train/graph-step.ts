import * as tf from '@tensorflow/tfjs';
import {StaleCaptureError, StepFunction} from '../backend/step-function.js';
import {canCaptureSteps, compareRecords, recordStep, type StepRecord} from '../backend/step-record.js';
import type {AdamW} from './adamw.js';
import {clipFactor, globalNorm} from './clip.js';
import type {StepContext} from './train-options.js';

/**
 * Whether training steps may be captured and replayed as TensorFlow functions: on tfjs-node built
 * with registerGraphFunction (`node scripts/native-backend.mjs --check` says `graphFunctions`),
 * unless `DSK_GRAPH_STEP=0`.
 */
export function graphStepsEnabled(value = process.env.DSK_GRAPH_STEP): boolean {
  return value !== '0' && canCaptureSteps();
}

/** How a run's steps ran: replayed as one TensorFlow function each, or op by op and why. */
export interface GraphStepReport {
  /** Steps replayed as a captured TensorFlow function. */
  replayed: number;
  /** Steps run op by op (the recorded ones included). */
  eager: number;
  /** Why steps ran op by op after their recordings, when they did. */
  reason?: string;
}

/** Recordings made before a signature gives up: two consecutive ones must match. */
const MAX_RECORDINGS = 3;
/** Input signatures (shapes) captured per run: a last short batch makes a second one. */
const MAX_SIGNATURES = 4;

interface Entry<L> {
  /** Steps run with this signature: the first is not recorded (see `run`). */
  seen: number;
  records: StepRecord[];
  graph?: StepFunction;
  layout?: L;
  failed?: string;
}

/** A step's outputs and a description of them (`layout`) that a replay returns unchanged. */
export interface StepOutputs<L> {
  tensors: tf.Tensor[];
  layout: L;
}

/**
 * The training steps of one run, replayed as TensorFlow functions once captured. Per input
 * signature (dtypes and shapes of the inputs), the first step runs eagerly, the next ones eagerly
 * while recorded; when two records
 * agree (same ops, attributes and values written from JS) the later one becomes a TensorFlow
 * function and every further step is one call of it. A record that cannot be replayed (a read-back,
 * a tensor kept by the step, a value that changes and is not an input) leaves that signature eager,
 * with the reason in `report()`.
 */
export class CapturedSteps<L> {
  private readonly entries = new Map<string, Entry<L>>();
  private readonly counts = {replayed: 0, eager: 0};
  private reason?: string;
  private recording = false;
  private tainted?: string;

  constructor(private readonly onFallback?: (reason: string) => void) {}

  /**
   * One step: `body` run eagerly (recorded while the step is being captured), or the captured
   * function called on `inputs`. `body` must read everything that changes between steps from
   * `inputs` and return the tensors the caller needs; `replayed` says which ran, since a replay
   * does none of body's JS side effects.
   */
  run(inputs: readonly tf.Tensor[], body: () => StepOutputs<L>): StepOutputs<L> & {replayed: boolean} {
    const key = inputs.map((t) => `${t.dtype}[${t.shape}]`).join(' ');
    let entry = this.entries.get(key);
    if (!entry) {
      entry = {seen: 0, records: []};
      this.entries.set(key, entry);
      if (this.entries.size > MAX_SIGNATURES) this.fail(entry, `more than ${MAX_SIGNATURES} input shapes`);
    }
    if (entry.graph && entry.layout !== undefined) {
      try {
        const tensors = entry.graph.call(inputs);
        this.counts.replayed += 1;
        return {tensors, layout: entry.layout, replayed: true};
      } catch (error) {
        if (!(error instanceof StaleCaptureError)) throw error;
        entry.graph.dispose();
        entry.graph = undefined;
        this.fail(entry, error.message);
      }
    }
    this.counts.eager += 1;
    // The first step makes what later ones reuse — tensors tfjs writes to TensorFlow on first use,
    // caches — so it would differ from the second: it only runs.
    entry.seen += 1;
    if (entry.failed || entry.seen === 1) return {...body(), replayed: false};
    let layout: L | undefined;
    this.recording = true;
    this.tainted = undefined;
    let recorded: ReturnType<typeof recordStep>;
    try {
      recorded = recordStep(inputs, () => {
        const out = body();
        layout = out.layout;
        return out.tensors;
      });
    } finally {
      this.recording = false;
    }
    const {record, outputs} = recorded;
    if (this.tainted) record.violation ??= this.tainted;
    this.capture(entry, record, layout as L);
    return {tensors: outputs, layout: layout as L, replayed: false};
  }

  /**
   * Marks the step being recorded as one that cannot be replayed: it depends on a JS value the
   * record cannot see change (a branch on the step number).
   */
  taint(reason: string): void {
    if (this.recording) this.tainted ??= reason;
  }

  /** Removes the captured functions from TensorFlow's context. */
  dispose(): void {
    for (const entry of this.entries.values()) entry.graph?.dispose();
    this.entries.clear();
  }

  /** Steps replayed and run op by op so far, and why. */
  report(): GraphStepReport {
    return {...this.counts, ...(this.reason ? {reason: this.reason} : {})};
  }

  private capture(entry: Entry<L>, record: StepRecord, layout: L): void {
    const previous = entry.records.at(-1);
    entry.records.push(record);
    let why = record.violation;
    if (!why && previous) {
      why = compareRecords(previous, record);
      if (!why) {
        try {
          entry.graph = StepFunction.fromRecord(record);
          entry.layout = layout;
          entry.records = [];
          return;
        } catch (error) {
          this.fail(entry, (error as Error).message);
          return;
        }
      }
    }
    if (record.violation || entry.records.length >= MAX_RECORDINGS)
      this.fail(entry, why ?? 'no two steps agreed');
  }

  /** Leaves `entry` op by op; the run's first reason is reported (once). */
  private fail(entry: Entry<L>, reason: string): void {
    entry.failed = reason;
    entry.records = [];
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.onFallback?.(reason);
  }
}

/**
 * `ctx` for a loss that may be recorded: reading `step` or `epoch` taints the recording, since a JS
 * branch on them (a schedule, a poisoned step in a test) is invisible in the ops two steps run.
 * `seed` is free: what it changes (dropout masks drawn in JS) reaches the ops as values, and
 * `compareRecords` sees those change.
 */
function watched(steps: CapturedSteps<TrainStepLayout>, ctx: StepContext): StepContext {
  return {
    training: ctx.training,
    seed: ctx.seed,
    get step() {
      steps.taint('the loss reads ctx.step');
      return ctx.step;
    },
    get epoch() {
      steps.taint('the loss reads ctx.epoch');
      return ctx.epoch;
    },
  };
}

/** What a training step returns, and how a captured one lays it out. */
export interface StepResult {
  loss: tf.Scalar;
  metrics: Record<string, tf.Scalar>;
  gradNorm?: tf.Scalar;
}

/** Outputs of a captured training step: [loss, gradNorm?, ...metrics by name, ...new parameter values]. */
export interface TrainStepLayout {
  metrics: string[];
  gradNorm: boolean;
}

export interface OneBatchStep {
  /** The batch's tensors, in a fixed order: inputs, targets, weights. */
  batch: readonly tf.Tensor[];
  variables: readonly tf.Variable[];
  optimizer: AdamW;
  lr: number;
  /** Global-norm clip, 0 for none. */
  clip: number;
  ctx: StepContext;
  /** Loss, metrics and gradients of the batch (one tape), given the step context. */
  gradients: (ctx: StepContext) => {
    loss: tf.Scalar;
    metrics: Record<string, tf.Scalar>;
    grads: Array<tf.Tensor | undefined>;
  };
}

/**
 * One optimizer step on one batch — gradients, clip factor, AdamW — through `steps`, so that once
 * captured it is one TensorFlow function call. Its inputs are the batch, the parameters' current
 * values and the update's per-step values (learning rate, bias corrections); its outputs the loss,
 * the gradient norm, the metrics and the parameters' new values, which a replay assigns.
 */
export function oneBatchStep(steps: CapturedSteps<TrainStepLayout>, s: OneBatchStep): StepResult {
  const {optimizer, variables, clip} = s;
  optimizer.beforeReplay();
  const scalars = optimizer.nextStepInputs(s.lr);
  const out = steps.run([...s.batch, ...variables, ...scalars], () =>
    tf.tidy(() => {
      const {loss, metrics, grads} = s.gradients(watched(steps, s.ctx));
      const present = grads.filter((g): g is tf.Tensor => g !== undefined);
      const norm = clip > 0 ? globalNorm(present) : undefined;
      optimizer.applyWithInputs(grads, scalars, norm ? clipFactor(norm, clip) : undefined);
      const names = Object.keys(metrics).sort();
      const tensors = [loss, ...(norm ? [norm] : []), ...names.map((n) => metrics[n]!)];
      // tf.clone shares the buffer: the step's outputs include each parameter's new value.
      return {
        tensors: [...tensors, ...variables.map((v) => tf.clone(v))],
        layout: {metrics: names, gradNorm: !!norm},
      };
    }),
  );
  tf.dispose(scalars);
  const {layout} = out;
  const values = out.tensors.splice(out.tensors.length - variables.length);
  if (out.replayed) {
    for (const [i, v] of variables.entries()) v.assign(values[i]!);
    optimizer.afterReplay();
  }
  tf.dispose(values);
  const [loss, ...rest] = out.tensors as tf.Scalar[];
  const gradNorm = layout.gradNorm ? rest.shift() : undefined;
  const metrics = Object.fromEntries(layout.metrics.map((n, i) => [n, rest[i]!]));
  return {loss: loss!, metrics, ...(gradNorm ? {gradNorm} : {})};
}
