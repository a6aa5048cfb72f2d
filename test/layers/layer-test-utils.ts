import * as tf from '@tensorflow/tfjs';
import {expect} from 'vitest';

/** Saves a model to memory in the tfjs format and loads it back (works on any backend). */
export async function saveAndLoad(model: tf.LayersModel): Promise<tf.LayersModel> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
    }),
  );
  // Through JSON, as a model.json on disk would be: catches configs that do not survive it.
  const topology = JSON.parse(JSON.stringify(artifacts!.modelTopology));
  return tf.loadLayersModel(tf.io.fromMemory({...artifacts!, modelTopology: topology}) as tf.io.IOHandler);
}

/** Largest absolute difference between two tensors of the same shape. */
export async function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  expect(a.shape).toEqual(b.shape);
  const d = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))));
  const v = (await d.data())[0]!;
  d.dispose();
  return v;
}

export async function expectClose(a: tf.Tensor, b: tf.Tensor, tol = 1e-5): Promise<void> {
  expect(await maxAbsDiff(a, b)).toBeLessThanOrEqual(tol);
}

/** Deterministic pseudo-random tensor in [-1, 1). */
export function rand(shape: number[], seed = 1): tf.Tensor {
  return tf.randomUniform(shape, -1, 1, 'float32', seed);
}

/**
 * Checks the analytic gradient of `f` (a scalar function of one variable) against central finite
 * differences at `samples` coordinates. float32 limits the precision, so the tolerance is relative
 * to the gradient's scale.
 */
export async function checkGradient(
  variable: tf.Variable,
  f: () => tf.Scalar,
  {samples = 12, eps = 1e-2, tol = 2e-2}: {samples?: number; eps?: number; tol?: number} = {},
): Promise<{maxError: number; scale: number}> {
  const {grads} = tf.variableGrads(f, [variable]);
  const analytic = await grads[variable.name]!.data();
  tf.dispose(grads);
  const base = await variable.data();
  const size = base.length;
  const step = Math.max(1, Math.floor(size / samples));
  let maxError = 0;
  let scale = 1e-3;
  for (let i = 0; i < size; i += step) {
    const at = (delta: number): number => {
      const v = Float32Array.from(base);
      v[i] = v[i]! + delta;
      const t = tf.tensor(v, variable.shape);
      variable.assign(t);
      t.dispose();
      const y = f();
      const value = y.dataSync()[0]!;
      y.dispose();
      return value;
    };
    const numeric = (at(eps) - at(-eps)) / (2 * eps);
    maxError = Math.max(maxError, Math.abs(numeric - analytic[i]!));
    scale = Math.max(scale, Math.abs(analytic[i]!));
  }
  const restore = tf.tensor(base, variable.shape);
  variable.assign(restore);
  restore.dispose();
  expect(maxError / scale).toBeLessThan(tol);
  return {maxError, scale};
}

/** Runs `fn` and returns how many tensors it left behind. */
export async function leakedTensors(fn: () => Promise<void> | void): Promise<number> {
  const before = tf.memory().numTensors;
  await fn();
  return tf.memory().numTensors - before;
}

/** Disposes a layer's weights whether or not it was ever applied (tfjs's dispose() needs a use). */
export function disposeWeights(layer: tf.layers.Layer): void {
  for (const w of layer.weights) w.dispose();
}

/**
 * Wraps `layer` in a one-layer functional model, saves and reloads it, and returns the largest
 * difference between the two models' predictions on a random batch (0 when the round trip is exact).
 */
export async function saveLoadDiff(layer: tf.layers.Layer, inputShape: number[]): Promise<number> {
  const input = tf.input({shape: inputShape});
  const model = tf.model({inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor});
  const loaded = await saveAndLoad(model);
  expect(loaded.getWeights().length).toBe(model.getWeights().length);
  const x = rand([2, ...inputShape], 21);
  const a = model.predict(x) as tf.Tensor;
  const b = loaded.predict(x) as tf.Tensor;
  const diff = await maxAbsDiff(a, b);
  tf.dispose([x, a, b]);
  model.dispose();
  loaded.dispose();
  return diff;
}
