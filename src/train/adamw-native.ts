import * as tf from '@tensorflow/tfjs';
import {F32, type NativeOps} from '../backend/native-ops.js';
import {NativeVariable} from '../backend/native-variable.js';
import type {AdamWHyper, AdamWMoments, AdamWUpdate} from './adamw.js';

/**
 * AdamW's update as TensorFlow's own training ops, on tfjs-node. Each parameter and its two moments
 * live in TensorFlow resource variables, and a step is, per parameter,
 *   ResourceApplyGradientDescent(p, lr·wd, p)                       p ← p·(1 − lr·wd), decaying ones only
 *   ResourceApplyAdam(p, m, v, β1^t, β2^t, lr, β1, β2, ε·√(1−β2^t), s·g)
 * then the tfjs variable takes the new value (ReadVariableOp shares the buffer, no copy). TensorFlow's
 * Adam computes p ← p − lr·√(1−β2^t)/(1−β1^t) · m/(√v + ε′), PyTorch's update with ε′ = ε·√(1−β2^t),
 * in one pass over p, m, v and g. 3–4 ops per parameter where the composed update takes 13
 * (bench/train-profile.ts, dense-lm: 111 ops per update instead of 511).
 * A tfjs variable assigned from outside (a checkpoint, pruning masks, quantization-aware training)
 * is noticed by its data id and copied in before the next update.
 */
export class NativeAdamW implements AdamWUpdate {
  private readonly p: NativeVariable[];
  private readonly m: NativeVariable[];
  private readonly v: NativeVariable[];
  /** The data id each tfjs variable had when this update last wrote it. */
  private readonly written: unknown[];
  private readonly constants: {beta1: tf.Scalar; beta2: tf.Scalar};
  private reads: tf.Tensor[] = [];

  constructor(
    private readonly ops: NativeOps,
    private readonly params: readonly tf.Variable[],
    private readonly hyper: AdamWHyper,
  ) {
    this.p = params.map((p) => new NativeVariable(ops, p));
    this.written = params.map((p) => p.dataId);
    const zeros = (p: tf.Variable) => {
      const z = tf.zerosLike(p);
      const variable = new NativeVariable(ops, z);
      z.dispose();
      return variable;
    };
    this.m = params.map(zeros);
    this.v = params.map(zeros);
    this.constants = {beta1: tf.keep(tf.scalar(hyper.beta1)), beta2: tf.keep(tf.scalar(hyper.beta2))};
  }

  apply(grads: ReadonlyArray<tf.Tensor | undefined>, lr: number, t: number, gradScale?: tf.Scalar): void {
    tf.tidy(() => this.applyScalars(grads, this.stepScalars(lr, t), gradScale));
  }

  /**
   * The values step `t` at learning rate `lr` feeds the update, as tensors: what changes from step
   * to step, so a captured step (src/train/graph-step.ts) takes them as inputs.
   */
  stepScalars(lr: number, t: number): tf.Scalar[] {
    const {beta1, beta2, epsilon, weightDecay} = this.hyper;
    const values = [beta1 ** t, beta2 ** t, lr, epsilon * Math.sqrt(1 - beta2 ** t), lr * weightDecay];
    return values.map((v) => tf.scalar(v));
  }

  /** The update with `stepScalars`' values; `p.assign`s each parameter its new value. */
  applyScalars(
    grads: ReadonlyArray<tf.Tensor | undefined>,
    scalars: readonly tf.Scalar[],
    gradScale?: tf.Scalar,
  ): void {
    const {decayMask} = this.hyper;
    const {ops} = this;
    const [beta1t, beta2t, lr, epsilon, decay] = scalars as [
      tf.Scalar,
      tf.Scalar,
      tf.Scalar,
      tf.Scalar,
      tf.Scalar,
    ];
    const adam = [beta1t, beta2t, lr, this.constants.beta1, this.constants.beta2, epsilon];
    tf.tidy(() => {
      this.sync();
      for (const [i, p] of this.params.entries()) {
        const g = grads[i];
        if (!g) continue;
        const handle = this.p[i]!.handle;
        if (decayMask[i]) {
          ops.run('ResourceApplyGradientDescent', {T: F32, use_locking: false}, [handle, decay, p], 0);
        }
        const scaled = gradScale ? ops.one('Mul', {T: F32}, [g, gradScale]) : g;
        const moments = [this.m[i]!.handle, this.v[i]!.handle];
        ops.run('ResourceApplyAdam', ADAM_ATTRS, [handle, ...moments, ...adam, scaled], 0);
        p.assign(this.p[i]!.read());
      }
      this.markWritten();
    });
  }

  /** Copies into the TensorFlow variables the tfjs variables assigned from outside since the last update. */
  sync(): void {
    for (const [i, p] of this.params.entries()) {
      if (p.dataId !== this.written[i]) this.p[i]!.assign(p);
    }
  }

  /** Notes the tfjs variables' current values as the TensorFlow variables' own (after an update). */
  markWritten(): void {
    for (const [i, p] of this.params.entries()) this.written[i] = p.dataId;
  }

  moments(): AdamWMoments {
    tf.dispose(this.reads);
    const m = this.m.map((x) => tf.keep(x.read()));
    const v = this.v.map((x) => tf.keep(x.read()));
    this.reads = [...m, ...v];
    return {m, v};
  }

  setMoments({m, v}: AdamWMoments): void {
    for (const [i, value] of m.entries()) this.m[i]!.assign(value);
    for (const [i, value] of v.entries()) this.v[i]!.assign(value);
  }

  dispose(): void {
    for (const x of [...this.p, ...this.m, ...this.v]) x.dispose();
    tf.dispose([...this.reads, ...Object.values(this.constants)]);
    this.reads = [];
  }
}

const ADAM_ATTRS = {T: F32, use_locking: false, use_nesterov: false};
