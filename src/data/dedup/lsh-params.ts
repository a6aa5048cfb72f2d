import {ConfigError} from '../../errors.js';

/** How a MinHash signature is cut for LSH: `bands` groups of `rows` values (bands·rows ≤ numPerm). */
export interface LshParams {
  bands: number;
  rows: number;
  /** Integrated probability of a candidate pair below the threshold (false positives). */
  falsePositive: number;
  /** Integrated probability of missing a pair above the threshold (false negatives). */
  falseNegative: number;
}

/**
 * Bands × rows that minimize the weighted area of false positives below `threshold` and false
 * negatives above it, as datasketch's `optimal_param` does: two documents of Jaccard similarity s
 * share at least one band with probability P(s) = 1 − (1 − s^r)^b, so
 *   FP = ∫₀ᵗ P(s) ds,  FN = ∫ₜ¹ (1 − P(s)) ds,  minimize wFP·FP + wFN·FN over b·r ≤ numPerm.
 * (Leskovec, Rajaraman & Ullman, Mining of Massive Datasets, §3.4.) For t = 0.8, 128 permutations
 * and even weights this gives 9 bands of 13 rows, as datasketch does; weights 0.1 / 0.9 give 14 × 9.
 */
export function optimalLshParams(
  threshold: number,
  numPerm: number,
  weights: {falsePositive: number; falseNegative: number} = {falsePositive: 0.5, falseNegative: 0.5},
): LshParams {
  if (!(threshold > 0 && threshold < 1)) {
    throw new ConfigError(`near-dup threshold must be between 0 and 1 (exclusive), got ${threshold}`);
  }
  if (!Number.isInteger(numPerm) || numPerm < 2) {
    throw new ConfigError(`num-perm must be an integer >= 2, got ${numPerm}`);
  }
  let best: LshParams | undefined;
  let bestError = Number.POSITIVE_INFINITY;
  for (let b = 1; b <= numPerm; b++) {
    for (let r = 1; r <= Math.floor(numPerm / b); r++) {
      const falsePositive = integrate((s) => 1 - (1 - s ** r) ** b, 0, threshold);
      const falseNegative = integrate((s) => (1 - s ** r) ** b, threshold, 1);
      const error = weights.falsePositive * falsePositive + weights.falseNegative * falseNegative;
      if (error < bestError) {
        bestError = error;
        best = {bands: b, rows: r, falsePositive, falseNegative};
      }
    }
  }
  return best!;
}

/** Probability that a pair of Jaccard similarity s becomes a candidate (shares a band). */
export function candidateProbability(s: number, params: Pick<LshParams, 'bands' | 'rows'>): number {
  return 1 - (1 - s ** params.rows) ** params.bands;
}

// Composite Simpson's rule: the integrands are smooth polynomials, 256 panels give ~1e-10.
function integrate(f: (x: number) => number, a: number, b: number, panels = 256): number {
  const h = (b - a) / panels;
  let sum = f(a) + f(b);
  for (let i = 1; i < panels; i++) sum += (i % 2 === 1 ? 4 : 2) * f(a + i * h);
  return (sum * h) / 3;
}
