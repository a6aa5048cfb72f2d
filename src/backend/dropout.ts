import * as tf from '@tensorflow/tfjs';
import {F32, nativeOps} from './native-ops.js';

/**
 * Dropout that a captured training step can replay. tf.dropout draws its mask in JS, so the mask
 * reaches TensorFlow as a constant that changes every step and a step with dropout cannot be
 * captured (src/backend/step-record.ts). Here, on tfjs-node, TensorFlow draws the mask itself with
 * StatelessRandomUniform from a seed tensor the trainer feeds each step (`withDropoutSeed`): the
 * recorded ops are the same from step to step and only the seed input changes.
 *
 * The k-th dropout of a step (in call order: the layer's place in the model) draws from
 * seed + [0, k], so masks differ across layers and steps and are a function of (run seed, step,
 * layer): a resumed run draws what an uninterrupted one would. Without a seed in scope, or on wasm
 * and cpu, masks come from tf.dropout (Math.random, which the model losses seed per step).
 */

interface Scope {
  /** int32 [2], this step's (micro-batch's) seed. */
  seed: tf.Tensor;
  /** Dropouts drawn so far in the scope. */
  calls: number;
}

let scope: Scope | undefined;

/**
 * The seed tensor for a step's dropout masks: int32 [2] = [step seed, micro-batch · 2¹⁶] (the k-th
 * dropout adds k to the second: distinct for up to 2¹⁶ dropouts per micro-batch), on tfjs-node with
 * the `dropout` native path enabled; undefined elsewhere (tf.dropout draws the masks).
 */
export function dropoutSeed(stepSeed: number, micro = 0): tf.Tensor1D | undefined {
  if (!nativeOps('dropout')) return undefined;
  return tf.tensor1d([stepSeed | 0, (micro * 2 ** 16) | 0], 'int32');
}

/** Runs `fn` (synchronous) with dropout masks drawn from `seed` (see `dropoutSeed`). */
export function withDropoutSeed<T>(seed: tf.Tensor | undefined, fn: () => T): T {
  if (!seed) return fn();
  const outer = scope;
  scope = {seed, calls: 0};
  try {
    return fn();
  } finally {
    scope = outer;
  }
}

/**
 * `x` with each element zeroed with probability `rate` and the rest scaled by 1/(1 − rate), so the
 * expected value is unchanged (Srivastava et al. 2014, inverted dropout). Callers apply it only in
 * training: inference runs no random op.
 */
export function dropout(x: tf.Tensor, rate: number): tf.Tensor {
  const ops = scope ? nativeOps('dropout') : undefined;
  if (!scope || !ops || rate <= 0) return rate > 0 ? tf.dropout(x, rate) : x;
  const k = scope.calls++;
  return tf.tidy(() => {
    const seed = k === 0 ? scope!.seed : tf.add(scope!.seed, tf.tensor1d([0, k], 'int32'));
    const uniform = ops.one(
      'StatelessRandomUniform',
      {dtype: F32, T: {type: 'int32'}, Tseed: {type: 'int32'}},
      [tf.tensor1d(x.shape, 'int32'), seed],
    ); // same shape as x, in [0, 1)
    const keep = 1 - rate;
    // floor(u + keep) is 1 with probability keep, else 0.
    return tf.mul(x, tf.mul(tf.floor(tf.add(uniform, keep)), 1 / keep));
  });
}
