/** A smooth objective: its value at `x`, with the gradient written into `grad`. */
export type Objective = (x: Float64Array, grad: Float64Array) => number;

export interface LbfgsOptions {
  /** Most iterations. Default 100 (scikit-learn's LogisticRegression max_iter). */
  maxIter?: number;
  /** Stop when the largest gradient component is at most this. Default 1e-4 (scikit-learn's tol). */
  gradTol?: number;
  /** Correction pairs kept. Default 10 (scipy's L-BFGS-B default). */
  memory?: number;
}

export interface LbfgsResult {
  x: Float64Array;
  value: number;
  iterations: number;
  converged: boolean;
}

/**
 * Minimizes `f` from `x0` with limited-memory BFGS (Nocedal & Wright, Numerical Optimization,
 * algorithm 7.4: the two-loop recursion) and a backtracking line search on the Armijo condition; a
 * pair whose curvature s·y is not positive is skipped, which keeps the implied Hessian positive.
 */
export function minimizeLbfgs(f: Objective, x0: Float64Array, options: LbfgsOptions = {}): LbfgsResult {
  const maxIter = options.maxIter ?? 100;
  const gradTol = options.gradTol ?? 1e-4;
  const m = options.memory ?? 10;
  const n = x0.length;
  let x = Float64Array.from(x0);
  let g = new Float64Array(n);
  let next = new Float64Array(n);
  let nextGrad = new Float64Array(n);
  const d = new Float64Array(n);
  let value = f(x, g);
  // Correction pairs, oldest first; their buffers are reused once `m` are kept.
  const ss: Float64Array[] = [];
  const ys: Float64Array[] = [];
  const rhos: number[] = [];
  const alphas = new Float64Array(m);
  let iterations = 0;
  while (iterations < maxIter && maxAbs(g) > gradTol) {
    // Direction d = −H·g by the two-loop recursion; H0 = (s·y / y·y)·I from the newest pair.
    for (let j = 0; j < n; j++) d[j] = -g[j]!;
    for (let i = ss.length - 1; i >= 0; i--) {
      const a = rhos[i]! * dot(ss[i]!, d);
      alphas[i] = a;
      axpy(-a, ys[i]!, d);
    }
    const last = ss.length - 1;
    const gamma = last >= 0 ? 1 / (rhos[last]! * dot(ys[last]!, ys[last]!)) : 1 / Math.sqrt(dot(g, g));
    for (let j = 0; j < n; j++) d[j]! *= gamma;
    for (let i = 0; i < ss.length; i++) axpy(alphas[i]! - rhos[i]! * dot(ys[i]!, d), ss[i]!, d);
    let slope = dot(g, d);
    if (slope >= 0) {
      // Not a descent direction (numerical trouble): forget the pairs, take steepest descent.
      ss.length = ys.length = rhos.length = 0;
      const norm = Math.sqrt(dot(g, g));
      for (let j = 0; j < n; j++) d[j] = -g[j]! / norm;
      slope = dot(g, d);
    }
    let step = 1;
    let nextValue = Number.POSITIVE_INFINITY;
    for (let tries = 0; tries < 30; tries++) {
      for (let j = 0; j < n; j++) next[j] = x[j]! + step * d[j]!;
      nextValue = f(next, nextGrad);
      if (nextValue <= value + 1e-4 * step * slope) break;
      step /= 2;
    }
    if (!(nextValue < value)) break; // no progress along d: as good as it gets in float64
    const s = ss.length === m ? ss.shift()! : new Float64Array(n);
    const y = ys.length === m ? ys.shift()! : new Float64Array(n);
    if (rhos.length === m) rhos.shift();
    for (let j = 0; j < n; j++) {
      s[j] = next[j]! - x[j]!;
      y[j] = nextGrad[j]! - g[j]!;
    }
    const sy = dot(s, y);
    if (sy > 1e-10) {
      ss.push(s);
      ys.push(y);
      rhos.push(1 / sy);
    }
    [x, next] = [next, x];
    [g, nextGrad] = [nextGrad, g];
    value = nextValue;
    iterations++;
  }
  return {x, value, iterations, converged: maxAbs(g) <= gradTol};
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** y += a·x */
function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < x.length; i++) y[i]! += a * x[i]!;
}

function maxAbs(v: Float64Array): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]!));
  return m;
}
