import {minimizeLbfgs} from './lbfgs.js';
import type {SparseRows} from './tfidf-vectorizer.js';

export interface LogisticRegressionOptions {
  /** Inverse L2 strength, as scikit-learn's C. Default 1. */
  c?: number;
  /** L-BFGS iterations. Default 100 (scikit-learn's max_iter). */
  maxIter?: number;
}

/** A fitted multinomial logistic regression: weights [features × classes] row-major, one bias per class. */
export interface LogisticRegression {
  weights: Float64Array;
  bias: Float64Array;
  classes: number;
  iterations: number;
  converged: boolean;
}

/** Logits of row `i` of `x` into `out` [classes]. */
function rowLogits(x: SparseRows, i: number, w: Float64Array, b: Float64Array, k: number, out: Float64Array) {
  out.set(b);
  for (let p = x.rowStart[i]!; p < x.rowStart[i + 1]!; p++) {
    const v = x.values[p]!;
    const base = x.cols[p]! * k;
    for (let c = 0; c < k; c++) out[c]! += v * w[base + c]!;
  }
}

/** Softmax in place; returns the log of the normalizer (for the cross-entropy). */
function softmaxInPlace(z: Float64Array): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of z) max = Math.max(max, v);
  let sum = 0;
  for (let c = 0; c < z.length; c++) {
    z[c] = Math.exp(z[c]! - max);
    sum += z[c]!;
  }
  for (let c = 0; c < z.length; c++) z[c]! /= sum;
  return max + Math.log(sum);
}

/**
 * Multinomial logistic regression on sparse rows, fitted as scikit-learn's LogisticRegression does by
 * default (lbfgs, C = 1, max_iter 100, tol 1e-4): minimizes the mean cross-entropy plus
 * ‖W‖² / (2·C·n), the intercepts unpenalized.
 */
export function fitLogisticRegression(
  x: SparseRows,
  y: Int32Array,
  classes: number,
  options: LogisticRegressionOptions = {},
): LogisticRegression {
  const k = classes;
  const n = x.rows;
  const nw = x.columns * k;
  const l2 = 1 / ((options.c ?? 1) * n);
  const z = new Float64Array(k);
  const objective = (theta: Float64Array, grad: Float64Array) => {
    const w = theta.subarray(0, nw);
    const b = theta.subarray(nw);
    grad.fill(0);
    let loss = 0;
    for (let i = 0; i < n; i++) {
      rowLogits(x, i, w, b, k, z);
      const logit = z[y[i]!]!;
      loss += softmaxInPlace(z) - logit; // cross-entropy: log-sum-exp − the true class's logit
      z[y[i]!]! -= 1; // z is now p − onehot(y)
      for (let p = x.rowStart[i]!; p < x.rowStart[i + 1]!; p++) {
        const v = x.values[p]! / n;
        const base = x.cols[p]! * k;
        for (let c = 0; c < k; c++) grad[base + c]! += v * z[c]!;
      }
      for (let c = 0; c < k; c++) grad[nw + c]! += z[c]! / n;
    }
    let penalty = 0;
    for (let j = 0; j < nw; j++) {
      penalty += w[j]! * w[j]!;
      grad[j]! += l2 * w[j]!;
    }
    return loss / n + (l2 / 2) * penalty;
  };
  const result = minimizeLbfgs(objective, new Float64Array(nw + k), {maxIter: options.maxIter ?? 100});
  return {
    weights: result.x.slice(0, nw),
    bias: result.x.slice(nw),
    classes: k,
    iterations: result.iterations,
    converged: result.converged,
  };
}

/** The most probable class of each row. */
export function predictLogisticRegression(model: LogisticRegression, x: SparseRows): Int32Array {
  const z = new Float64Array(model.classes);
  return Int32Array.from({length: x.rows}, (_, i) => {
    rowLogits(x, i, model.weights, model.bias, model.classes, z);
    let best = 0;
    for (let c = 1; c < z.length; c++) if (z[c]! > z[best]!) best = c;
    return best;
  });
}
