import * as tf from '@tensorflow/tfjs';
import {expect} from 'vitest';
import {withComposedOps} from '../../src/backend/native-ops.js';

/**
 * The bar for a fused path: on the current backend (tensorflow, where native ops exist), `f` gives the
 * same value and the same gradients with respect to `inputs` as with the composed tfjs ops, to `tol`
 * (absolute, relative to the largest magnitude when that is above 1). A fixed random weighting of the
 * output makes every output element reach the gradients. Returns the largest difference seen.
 */
export function expectFusedEqualsComposed(
  f: (...inputs: tf.Tensor[]) => tf.Tensor,
  inputs: tf.Tensor[],
  tol = 1e-5,
): number {
  const run = () =>
    tf.tidy(() => {
      const value = f(...inputs);
      const probe = tf.randomUniform(value.shape, -1, 1, 'float32', 7);
      const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), probe)))(inputs);
      return [value, ...grads];
    });
  const fused = run();
  const composed = withComposedOps(run);
  let worst = 0;
  for (const [i, a] of fused.entries()) {
    const b = composed[i]!;
    expect(a.shape).toEqual(b.shape);
    const [diff, scale] = tf.tidy(() =>
      [tf.max(tf.abs(tf.sub(a, b))), tf.max(tf.abs(b))].map((t) => t.dataSync()[0]!),
    );
    const error = diff! / Math.max(1, scale!);
    worst = Math.max(worst, error);
    expect(error, `output ${i === 0 ? 'value' : `gradient ${i - 1}`}`).toBeLessThanOrEqual(tol);
  }
  tf.dispose([...fused, ...composed]);
  return worst;
}

/**
 * The same bar for a loss `f` of variables (a layer's weights, an input held in a variable): its value
 * and its gradient with respect to every one of `variables`, native against composed, to `tol`.
 */
export async function expectFusedEqualsComposedGrads(
  f: () => tf.Scalar,
  variables: tf.Variable[],
  tol = 1e-5,
): Promise<void> {
  const run = () => {
    const {value, grads} = tf.variableGrads(f, variables);
    return [value, ...variables.map((v) => grads[v.name]!)];
  };
  const fused = run();
  const composed = withComposedOps(run);
  for (const [i, a] of fused.entries()) {
    const b = composed[i]!;
    const [diff, scale] = [tf.max(tf.abs(tf.sub(a, b))), tf.max(tf.abs(b))];
    const error = (await diff.data())[0]! / Math.max(1, (await scale.data())[0]!);
    tf.dispose([diff, scale]);
    expect(error, i === 0 ? 'value' : `gradient of ${variables[i - 1]!.name}`).toBeLessThanOrEqual(tol);
  }
  tf.dispose([...fused, ...composed]);
}
