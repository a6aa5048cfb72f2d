import * as tf from '@tensorflow/tfjs';
import {nativeOps} from '../backend/native-ops.js';
import {NativeAdamW} from './adamw-native.js';
import type {NamedTensor, NamedVariable} from './named-variable.js';

export interface AdamWOptions {
  /** Exponential decay of the gradient mean. Default 0.9. */
  beta1?: number;
  /** Exponential decay of the squared-gradient mean. Default 0.999. */
  beta2?: number;
  /** Added to the bias-corrected RMS. Default 1e-8. */
  epsilon?: number;
  /** Decoupled weight decay per unit of learning rate (Loshchilov & Hutter 2019). Default 0.01. */
  weightDecay?: number;
  /**
   * Which parameters decay. Default: rank ≥ 2 (matrices and embeddings), not biases or norm scales,
   * whose decay pulls toward a meaningless zero (as in GPT-2 / nanoGPT).
   */
  decays?: (name: string, variable: tf.Variable) => boolean;
}

/** Everything an AdamW needs to continue exactly: the step count and both moments per parameter. */
export interface AdamWState {
  step: number;
  /** `${param}/m` and `${param}/v`, one pair per parameter, in parameter order. */
  slots: NamedTensor[];
}

const decaysMatrices = (_name: string, v: tf.Variable) => v.rank >= 2;

/** The settings both update paths share; `decayMask[i]` says whether parameter i decays. */
export interface AdamWHyper {
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  decayMask: readonly boolean[];
}

/** m and v of every parameter, in parameter order. */
export interface AdamWMoments {
  m: tf.Tensor[];
  v: tf.Tensor[];
}

/** One way of running the update: it owns the moments. */
export interface AdamWUpdate {
  /** Step `t` (from 1); a missing gradient skips its parameter. */
  apply(grads: ReadonlyArray<tf.Tensor | undefined>, lr: number, t: number, gradScale?: tf.Scalar): void;
  /** The moments as tensors the update owns (valid until the next call). */
  moments(): AdamWMoments;
  setMoments(moments: AdamWMoments): void;
  dispose(): void;
}

/**
 * AdamW over tf.Variables, with decoupled weight decay (tfjs's Adam has none) and a state that can
 * be saved and restored (tfjs optimizers cannot save theirs). Per parameter p with gradient g, at step t:
 *   p ← p·(1 − lr·wd)            (decaying parameters only)
 *   m ← β1·m + (1−β1)·s·g,  v ← β2·v + (1−β2)·(s·g)²
 *   p ← p − lr/(1−β1^t) · m / (√v / √(1−β2^t) + ε)
 * as PyTorch's `torch.optim.AdamW` computes it; s is a gradient scale (clipping, accumulation) that
 * stays a tensor, so the update never reads a value back from the backend. On tfjs-node the update
 * runs as TensorFlow's fused training ops (adamw-native.ts); elsewhere as the tfjs ops below.
 */
export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  /** Optimizer steps taken. */
  step = 0;
  private readonly decayMask: boolean[];
  private readonly update: AdamWUpdate;

  constructor(
    readonly params: readonly NamedVariable[],
    options: AdamWOptions = {},
  ) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.01;
    const decays = options.decays ?? decaysMatrices;
    this.decayMask = params.map((p) => this.weightDecay > 0 && decays(p.name, p.variable));
    const hyper: AdamWHyper = {
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      weightDecay: this.weightDecay,
      decayMask: this.decayMask,
    };
    const variables = params.map((p) => p.variable);
    const ops = nativeOps('adamw');
    this.update =
      ops && variables.every((v) => v.dtype === 'float32')
        ? new NativeAdamW(ops, variables, hyper)
        : new ComposedAdamW(variables, hyper);
  }

  /** Names of the parameters that decay (for logs and tests). */
  get decayed(): string[] {
    return this.params.filter((_, i) => this.decayMask[i]).map((p) => p.name);
  }

  /**
   * One update. `grads[i]` belongs to `params[i]`; a missing gradient (a parameter the loss did not
   * reach, like an expert no token was routed to) skips that parameter, as PyTorch does.
   */
  apply(grads: ReadonlyArray<tf.Tensor | undefined>, lr: number, gradScale?: tf.Scalar): void {
    this.step += 1;
    this.update.apply(grads, lr, this.step, gradScale);
  }

  /**
   * For a step captured as a TensorFlow function (graph-step.ts): the native update, whose per-step
   * values are tensors, or undefined for the composed update.
   */
  get captureable(): NativeAdamW | undefined {
    return this.update instanceof NativeAdamW ? this.update : undefined;
  }

  /** The next step's update values as tensors (a captured step's inputs); native update only. */
  nextStepInputs(lr: number): tf.Scalar[] {
    return this.native().stepScalars(lr, this.step + 1);
  }

  /** `apply` with `nextStepInputs`' tensors in place of `lr` and the step: the form a step is captured in. */
  applyWithInputs(
    grads: ReadonlyArray<tf.Tensor | undefined>,
    inputs: readonly tf.Scalar[],
    gradScale?: tf.Scalar,
  ): void {
    this.step += 1;
    this.native().applyScalars(grads, inputs, gradScale);
  }

  /** Before a replayed step: parameters assigned from outside reach the update's own variables. */
  beforeReplay(): void {
    this.native().sync();
  }

  /** After a replayed step, once each parameter holds its new value: counts the step. */
  afterReplay(): void {
    this.step += 1;
    this.native().markWritten();
  }

  private native(): NativeAdamW {
    const native = this.captureable;
    if (!native) throw new Error('AdamW: the composed update cannot run in a captured step');
    return native;
  }

  /** The moments and step, as tensors the caller may read (they stay owned by the optimizer). */
  getState(): AdamWState {
    const {m, v} = this.update.moments();
    const slots = this.params.flatMap((p, i) => [
      {name: `${p.name}/m`, tensor: m[i]!},
      {name: `${p.name}/v`, tensor: v[i]!},
    ]);
    return {step: this.step, slots};
  }

  /** Restores a state from `getState` (slots matched by position; shapes must agree). */
  setState(state: {step: number; slots: ReadonlyArray<tf.Tensor>}): void {
    if (state.slots.length !== 2 * this.params.length) {
      throw new Error(`optimizer state has ${state.slots.length} slots, expected ${2 * this.params.length}`);
    }
    for (const [k, value] of state.slots.entries()) {
      const p = this.params[k >> 1]!;
      if (!tf.util.arraysEqual(value.shape, p.variable.shape)) {
        throw new Error(
          `optimizer state for ${p.name}: shape [${value.shape}] does not match [${p.variable.shape}]`,
        );
      }
    }
    const every = (offset: number) => state.slots.filter((_, k) => k % 2 === offset);
    this.update.setMoments({m: every(0), v: every(1)});
    this.step = state.step;
  }

  dispose(): void {
    this.update.dispose();
  }
}

/** The update as tfjs ops, on every backend: the reference the native path is tested against. */
class ComposedAdamW implements AdamWUpdate {
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  private readonly constants: {
    beta1: tf.Scalar;
    beta2: tf.Scalar;
    oneMinusBeta1: tf.Scalar;
    oneMinusBeta2: tf.Scalar;
  };

  constructor(
    private readonly params: readonly tf.Variable[],
    private readonly hyper: AdamWHyper,
  ) {
    // Unnamed: tfjs variable names are process-wide, and two trainers may live in one process.
    this.m = tf.tidy(() => params.map((p) => tf.variable(tf.zerosLike(p), false)));
    this.v = tf.tidy(() => params.map((p) => tf.variable(tf.zerosLike(p), false)));
    const {beta1, beta2} = hyper;
    this.constants = tf.tidy(() => ({
      beta1: tf.keep(tf.scalar(beta1)),
      beta2: tf.keep(tf.scalar(beta2)),
      oneMinusBeta1: tf.keep(tf.scalar(1 - beta1)),
      oneMinusBeta2: tf.keep(tf.scalar(1 - beta2)),
    }));
  }

  apply(grads: ReadonlyArray<tf.Tensor | undefined>, lr: number, t: number, gradScale?: tf.Scalar): void {
    const c = this.constants;
    const {beta1, beta2, epsilon, weightDecay, decayMask} = this.hyper;
    tf.tidy(() => {
      // m̂/(√v̂ + ε) = m·s/(1−β1^t) / (√v + ε·s) with s = √(1−β2^t): one multiply fewer per parameter.
      const s = Math.sqrt(1 - beta2 ** t);
      const stepSize = tf.scalar((lr * s) / (1 - beta1 ** t));
      const eps = tf.scalar(epsilon * s);
      const decayFactor = tf.scalar(1 - lr * weightDecay);
      const c1 = gradScale ? tf.mul(c.oneMinusBeta1, gradScale) : c.oneMinusBeta1;
      const c2 = gradScale ? tf.mul(c.oneMinusBeta2, tf.square(gradScale)) : c.oneMinusBeta2;
      for (const [i, p] of this.params.entries()) {
        const g = grads[i];
        if (!g) continue;
        const m = tf.add(tf.mul(this.m[i]!, c.beta1), tf.mul(g, c1));
        const v = tf.add(tf.mul(this.v[i]!, c.beta2), tf.mul(tf.square(g), c2));
        this.m[i]!.assign(m);
        this.v[i]!.assign(v);
        const update = tf.mul(tf.div(m, tf.add(tf.sqrt(v), eps)), stepSize);
        const base = decayMask[i] ? tf.mul(p, decayFactor) : p;
        p.assign(tf.sub(base, update));
      }
    });
  }

  moments(): AdamWMoments {
    return {m: this.m, v: this.v};
  }

  setMoments({m, v}: AdamWMoments): void {
    for (const [i, value] of m.entries()) this.m[i]!.assign(value);
    for (const [i, value] of v.entries()) this.v[i]!.assign(value);
  }

  dispose(): void {
    tf.dispose([...this.m, ...this.v, ...Object.values(this.constants)]);
  }
}
