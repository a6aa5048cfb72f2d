import * as tf from '@tensorflow/tfjs';
import {ConfigError} from '../errors.js';

/** Where the magnitude threshold is taken: over all pruned weights at once, or in each weight. */
export type PruneScope = 'global' | 'layer';

/**
 * Weights `magnitude` leaves dense by default: MoE routers (a few hundred values that decide which
 * expert runs; a zero there changes routing, not just one product). Norm scales and biases are
 * never pruned: only weights of rank >= 2 are candidates.
 */
export const DEFAULT_PRUNE_SKIP = /router/;

/** A weight to prune: its name and a view of its values. */
export interface WeightValues {
  name: string;
  values: Float32Array;
}

/** The candidates of a model: its rank >= 2 weights (kernels, embeddings, expert stacks) not matching `skip`. */
export function prunableWeights(
  model: tf.LayersModel,
  skip: RegExp | null = DEFAULT_PRUNE_SKIP,
): tf.LayerVariable[] {
  return model.weights.filter((w) => w.shape.length >= 2 && !(skip?.test(w.originalName) ?? false));
}

/**
 * Keep-masks (1 keep, 0 prune) removing exactly round(sparsity·n) entries of smallest |value|: over
 * all weights together (`global`: layers that matter less lose more) or in each weight (`layer`).
 * Ties at the threshold are broken by position, so the count is exact.
 */
export function magnitudeMasks(
  weights: readonly WeightValues[],
  sparsity: number,
  scope: PruneScope = 'global',
): Uint8Array[] {
  if (!(sparsity >= 0 && sparsity < 1)) {
    throw new ConfigError(`sparsity must be in [0, 1), got ${sparsity}`);
  }
  if (scope === 'layer') return weights.map((w) => maskOf([w.values], sparsity)[0]!);
  return maskOf(
    weights.map((w) => w.values),
    sparsity,
  );
}

function maskOf(arrays: readonly Float32Array[], sparsity: number): Uint8Array[] {
  const n = arrays.reduce((s, a) => s + a.length, 0);
  const prune = Math.round(sparsity * n);
  const masks = arrays.map((a) => new Uint8Array(a.length).fill(1));
  if (prune === 0) return masks;
  const all = new Float32Array(n);
  let at = 0;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) all[at + i] = Math.abs(a[i]!);
    at += a.length;
  }
  const threshold = all.slice().sort()[prune - 1]!;
  // Everything below the threshold goes, then entries equal to it in order until the count is met.
  let below = 0;
  for (const v of all) if (v < threshold) below++;
  let ties = prune - below;
  for (const [k, a] of arrays.entries()) {
    const mask = masks[k]!;
    for (let i = 0; i < a.length; i++) {
      const v = Math.abs(a[i]!);
      if (v < threshold) mask[i] = 0;
      else if (v === threshold && ties > 0) {
        mask[i] = 0;
        ties--;
      }
    }
  }
  return masks;
}

/** Zeroes the masked-out entries of each variable in place. */
export function applyMasks(variables: readonly tf.LayerVariable[], masks: readonly tf.Tensor[]): void {
  tf.tidy(() => {
    for (const [i, v] of variables.entries()) v.write(tf.mul(v.read(), masks[i]!));
  });
}

/** Masks of `magnitudeMasks` for live variables, as float tensors of their shapes (caller disposes). */
export function maskTensors(
  variables: readonly tf.LayerVariable[],
  sparsity: number,
  scope: PruneScope,
): tf.Tensor[] {
  const values = variables.map((v) => ({
    name: v.originalName,
    values: v.read().dataSync() as Float32Array,
  }));
  return magnitudeMasks(values, sparsity, scope).map((m, i) =>
    tf.tensor(Float32Array.from(m), variables[i]!.shape as number[], 'float32'),
  );
}

/** Zeros / entries over the given variables. */
export function measuredSparsity(variables: readonly tf.LayerVariable[]): number {
  let zeros = 0;
  let n = 0;
  for (const v of variables) {
    const data = v.read().dataSync();
    n += data.length;
    for (const x of data) if (x === 0) zeros++;
  }
  return n === 0 ? 0 : zeros / n;
}
