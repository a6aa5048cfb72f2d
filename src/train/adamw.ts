import * as tf from '@tensorflow/tfjs';
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

/**
 * AdamW over tf.Variables, with decoupled weight decay (tfjs's Adam has none) and a state that can
 * be saved and restored (tfjs optimizers cannot save theirs). Per parameter p with gradient g, at step t:
 *   p ← p·(1 − lr·wd)            (decaying parameters only)
 *   m ← β1·m + (1−β1)·s·g,  v ← β2·v + (1−β2)·(s·g)²
 *   p ← p − lr/(1−β1^t) · m / (√v / √(1−β2^t) + ε)
 * as PyTorch's `torch.optim.AdamW` computes it; s is a gradient scale (clipping, accumulation) that
 * stays a tensor, so the update never reads a value back from the backend.
 */
export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  /** Optimizer steps taken. */
  step = 0;
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  private readonly decayMask: boolean[];
  private readonly constants: {
    beta1: tf.Scalar;
    beta2: tf.Scalar;
    oneMinusBeta1: tf.Scalar;
    oneMinusBeta2: tf.Scalar;
  };

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
    // Unnamed: tfjs variable names are process-wide, and two trainers may live in one process.
    this.m = tf.tidy(() => params.map((p) => tf.variable(tf.zerosLike(p.variable), false)));
    this.v = tf.tidy(() => params.map((p) => tf.variable(tf.zerosLike(p.variable), false)));
    this.constants = tf.tidy(() => ({
      beta1: tf.keep(tf.scalar(this.beta1)),
      beta2: tf.keep(tf.scalar(this.beta2)),
      oneMinusBeta1: tf.keep(tf.scalar(1 - this.beta1)),
      oneMinusBeta2: tf.keep(tf.scalar(1 - this.beta2)),
    }));
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
    const t = this.step;
    const c = this.constants;
    tf.tidy(() => {
      // m̂/(√v̂ + ε) = m·s/(1−β1^t) / (√v + ε·s) with s = √(1−β2^t): one multiply fewer per parameter.
      const s = Math.sqrt(1 - this.beta2 ** t);
      const stepSize = tf.scalar((lr * s) / (1 - this.beta1 ** t));
      const epsilon = tf.scalar(this.epsilon * s);
      const decayFactor = tf.scalar(1 - lr * this.weightDecay);
      const c1 = gradScale ? tf.mul(c.oneMinusBeta1, gradScale) : c.oneMinusBeta1;
      const c2 = gradScale ? tf.mul(c.oneMinusBeta2, tf.square(gradScale)) : c.oneMinusBeta2;
      for (const [i, {variable: p}] of this.params.entries()) {
        const g = grads[i];
        if (!g) continue;
        const m = tf.add(tf.mul(this.m[i]!, c.beta1), tf.mul(g, c1));
        const v = tf.add(tf.mul(this.v[i]!, c.beta2), tf.mul(tf.square(g), c2));
        this.m[i]!.assign(m);
        this.v[i]!.assign(v);
        const update = tf.mul(tf.div(m, tf.add(tf.sqrt(v), epsilon)), stepSize);
        const base = this.decayMask[i] ? tf.mul(p, decayFactor) : p;
        p.assign(tf.sub(base, update));
      }
    });
  }

  /** The moments and step, as tensors the caller may read (they stay owned by the optimizer). */
  getState(): AdamWState {
    const slots = this.params.flatMap((p, i) => [
      {name: `${p.name}/m`, tensor: this.m[i]! as tf.Tensor},
      {name: `${p.name}/v`, tensor: this.v[i]! as tf.Tensor},
    ]);
    return {step: this.step, slots};
  }

  /** Restores a state from `getState` (slots matched by position; shapes must agree). */
  setState(state: {step: number; slots: ReadonlyArray<tf.Tensor>}): void {
    if (state.slots.length !== 2 * this.params.length) {
      throw new Error(`optimizer state has ${state.slots.length} slots, expected ${2 * this.params.length}`);
    }
    for (const [i, p] of this.params.entries()) {
      for (const [k, target] of [
        [2 * i, this.m[i]!],
        [2 * i + 1, this.v[i]!],
      ] as const) {
        const value = state.slots[k]!;
        if (!tf.util.arraysEqual(value.shape, target.shape)) {
          throw new Error(
            `optimizer state for ${p.name}: shape [${value.shape}] does not match [${target.shape}]`,
          );
        }
        target.assign(value);
      }
    }
    this.step = state.step;
  }

  dispose(): void {
    tf.dispose([...this.m, ...this.v, ...Object.values(this.constants)]);
  }
}
