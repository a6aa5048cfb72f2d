import * as tf from '@tensorflow/tfjs';
import {type DispatchPlan, planDispatch} from './dispatch-plan.js';
import {chooseExperts, type RoutingOptions} from './routing.js';

/** Coefficients of the router's auxiliary losses; 0 turns one off. */
export interface RouterLossCoefs {
  /** Switch/GShard balance loss over the whole batch. */
  auxLossCoef: number;
  /** DeepSeek-V3 sequence-wise balance loss. */
  seqAuxLossCoef: number;
  /** ST-MoE router z-loss. */
  zLossCoef: number;
}

export interface RouteRowsOptions {
  /** [E] balancing bias added to the scores for choosing experts only (aux-loss-free balancing). */
  bias?: ArrayLike<number>;
  /** Most choices an expert takes (null: no limit), as for `planDispatch`. */
  capacity?: number | null;
  /** Compute the aux losses with these coefficients (training), over sequences of `sequenceLength` tokens. */
  losses?: (RouterLossCoefs & {sequenceLength: number}) | null;
}

export interface RoutedRows {
  /** Where each choice runs; `plan.indices` are the chosen experts. */
  plan: DispatchPlan;
  /** [R, 1] the gate weight of each expert-input row of the plan (0 for padding); differentiable. */
  rowWeights: tf.Tensor2D;
  /** The weighted sum of the aux losses (null when `losses` was not given); differentiable. */
  aux: tf.Scalar | null;
}

/**
 * The whole sparse router after its matmul, as two ops with hand-written gradients: from raw
 * logits x·W_router [T, E] to the gate weight of every row of the dispatch plan, and to the aux
 * losses. Routing is a chain of small [T, E] steps (temperature, softmax or sigmoid, bias, top-k,
 * gather, renormalisation, scale, three losses) that run as ~40 tensor ops plus their gradients when
 * written with tfjs ops; here they run in one pass over T·E numbers on the CPU, which has to read
 * the logits back for the top-k anyway, and their gradients come back as one [T, E] tensor each.
 * Same results as `routeTokens` + `planDispatch` + the loss functions (tests compare them).
 */
export function routeRows(
  logits: tf.Tensor2D,
  options: RoutingOptions,
  opts: RouteRowsOptions = {},
): RoutedRows {
  const [numTokens, numExperts] = logits.shape;
  const router = new RouterMath(logits.dataSync() as Float32Array, numTokens, numExperts, options);
  const plan = planDispatch(
    router.choose(opts.bias),
    numTokens,
    options.topK,
    numExperts,
    opts.capacity ?? null,
  );
  const rowWeights = jsOp(logits, router.rowWeights(plan), [plan.tokenIndex.length, 1], (dy) =>
    router.rowWeightsGrad(plan, dy),
  ) as tf.Tensor2D;
  let aux: tf.Scalar | null = null;
  if (opts.losses) {
    const {value, grad} = router.auxLoss(plan.indices, opts.losses);
    aux = jsOp(logits, Float32Array.of(value), [], (dy) => scaled(grad(), dy[0]!)) as tf.Scalar;
  }
  return {plan, rowWeights, aux};
}

function scaled(values: Float32Array, factor: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i]! * factor;
  return out;
}

/** A tensor computed in JS from `input`, whose gradient `backward` also computes in JS. */
function jsOp(
  input: tf.Tensor,
  values: Float32Array,
  shape: number[],
  backward: (dy: Float32Array) => Float32Array,
): tf.Tensor {
  // The input is only where the gradient goes; the value is already computed.
  const op = tf.customGrad((..._input: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.tensor(values, shape, 'float32'),
    gradFunc: (dy: tf.Tensor) => tf.tensor(backward(dy.dataSync() as Float32Array), input.shape, 'float32'),
  }));
  return op(input);
}

/** The router's numbers for one call, in float64: scores, probabilities, choices and gradients. */
class RouterMath {
  private readonly z: Float64Array; // logits / temperature
  private readonly scores: Float64Array; // s: softmax or sigmoid of z
  private readonly probs: Float64Array; // P: s normalised over all experts
  private indices: Int32Array = new Int32Array(0);
  private readonly k: number;

  constructor(
    logits: Float32Array,
    private readonly numTokens: number,
    private readonly numExperts: number,
    private readonly options: RoutingOptions,
  ) {
    const n = logits.length;
    const E = numExperts;
    this.k = options.topK;
    // Plain loops on locals throughout: TypedArray.from with a map function is ~100x slower in V8.
    const z = new Float64Array(n);
    const scores = new Float64Array(n);
    const probs = new Float64Array(n);
    const inv = 1 / options.temperature;
    for (let i = 0; i < n; i++) z[i] = logits[i]! * inv;
    for (let t = 0; t < numTokens; t++) {
      const o = t * E;
      if (options.scoring === 'softmax') {
        softmaxRow(z, o, E, scores);
        for (let e = o; e < o + E; e++) probs[e] = scores[e]!;
      } else {
        let sum = 0;
        for (let e = o; e < o + E; e++) {
          const s = 1 / (1 + Math.exp(-z[e]!));
          scores[e] = s;
          sum += s;
        }
        for (let e = o; e < o + E; e++) probs[e] = scores[e]! / sum;
      }
    }
    this.z = z;
    this.scores = scores;
    this.probs = probs;
  }

  /** Top-k experts per token by score + bias, token-major [T·k]. */
  choose(bias?: ArrayLike<number>): Int32Array {
    const E = this.numExperts;
    let choice = this.scores;
    if (bias) {
      choice = new Float64Array(this.scores.length);
      for (let i = 0; i < choice.length; i++) choice[i] = this.scores[i]! + bias[i % E]!;
    }
    this.indices = chooseExperts(choice, this.numTokens, this.numExperts, this.options, bias !== undefined);
    return this.indices;
  }

  /** [T·k] gate weights of the choices: chosen scores, renormalised and scaled as configured. */
  private choiceWeights(): {weights: Float64Array; norms: Float64Array} {
    const {k} = this;
    const E = this.numExperts;
    const weights = new Float64Array(this.indices.length);
    const norms = new Float64Array(this.numTokens).fill(1);
    for (let t = 0; t < this.numTokens; t++) {
      let sum = 0;
      for (let j = 0; j < k; j++) {
        const s = this.scores[t * E + this.indices[t * k + j]!]!;
        weights[t * k + j] = s;
        sum += s;
      }
      if (this.options.normTopK) norms[t] = sum + 1e-20;
      for (let j = 0; j < k; j++)
        weights[t * k + j] = (weights[t * k + j]! / norms[t]!) * this.options.routeScale;
    }
    return {weights, norms};
  }

  /** [R] the weight of each plan row: its choice's gate weight, 0 for padding. */
  rowWeights(plan: DispatchPlan): Float32Array {
    const {weights} = this.choiceWeights();
    const out = new Float32Array(plan.rowChoice.length);
    for (let r = 0; r < out.length; r++) {
      const c = plan.rowChoice[r]!;
      if (c >= 0) out[r] = weights[c]!;
    }
    return out;
  }

  /** d(loss)/d(raw logits) [T·E] from d(loss)/d(row weights) [R]. */
  rowWeightsGrad(plan: DispatchPlan, dRows: Float32Array): Float32Array {
    const {k} = this;
    const E = this.numExperts;
    const {routeScale, normTopK} = this.options;
    const dWeights = new Float64Array(this.indices.length); // d/d(choice weight); dropped choices stay 0
    for (let r = 0; r < plan.rowChoice.length; r++) {
      const c = plan.rowChoice[r]!;
      if (c >= 0) dWeights[c] = dRows[r]! * routeScale;
    }
    const {norms} = this.choiceWeights();
    const dScores = new Float64Array(E); // one token's d/ds, nonzero at its choices only
    const dz = new Float64Array(this.numTokens * E);
    for (let t = 0; t < this.numTokens; t++) {
      dScores.fill(0);
      const norm = norms[t]!;
      // w_j = s_j / N with N = Σ s_i + ε: dw_j/ds_i = δ_ij / N − s_j / N².
      let cross = 0;
      if (normTopK) {
        for (let j = 0; j < k; j++) {
          cross += dWeights[t * k + j]! * this.scores[t * E + this.indices[t * k + j]!]!;
        }
      }
      for (let j = 0; j < k; j++) {
        const e = this.indices[t * k + j]!;
        dScores[e]! += dWeights[t * k + j]! / norm - (normTopK ? cross / (norm * norm) : 0);
      }
      this.scoresToLogits(t, dScores, dz);
    }
    return this.toRawLogits(dz);
  }

  /** Chain rule through the scoring function for token t: dz[t, :] += ∂s/∂z · dScores. */
  private scoresToLogits(t: number, dScores: Float64Array, dz: Float64Array): void {
    const E = this.numExperts;
    const o = t * E;
    if (this.options.scoring === 'softmax') {
      let dot = 0;
      for (let e = 0; e < E; e++) dot += dScores[e]! * this.scores[o + e]!;
      for (let e = 0; e < E; e++) dz[o + e]! += this.scores[o + e]! * (dScores[e]! - dot);
    } else {
      for (let e = 0; e < E; e++) {
        const s = this.scores[o + e]!;
        dz[o + e]! += dScores[e]! * s * (1 - s);
      }
    }
  }

  private toRawLogits(dz: Float64Array): Float32Array {
    const inv = 1 / this.options.temperature;
    const out = new Float32Array(dz.length);
    for (let i = 0; i < dz.length; i++) out[i] = dz[i]! * inv;
    return out;
  }

  /**
   * The weighted aux losses, and their gradient w.r.t. the raw logits [T·E] (computed when asked:
   * only a backward pass needs it). Balance losses (as `balanceLoss`): Σ_t Σ_i P_ti·c_g(t)i with c
   * counted from the choices; z-loss (as `routerZLoss`): mean_t logsumexp(z_t)².
   */
  auxLoss(
    indices: Int32Array,
    losses: RouterLossCoefs & {sequenceLength: number},
  ): {value: number; grad: () => Float32Array} {
    const T = this.numTokens;
    const E = this.numExperts;
    let value = 0;
    if (T === 0) return {value, grad: () => new Float32Array(0)};
    // dL/dP [T·E] of both balance losses; they differ only in how tokens are grouped.
    const dProbs = new Float64Array(T * E);
    const balance = (coef: number, sequenceLength: number) => {
      if (coef <= 0) return;
      if (T % sequenceLength !== 0) {
        throw new Error(`balanceLoss: ${T} tokens do not split into sequences of ${sequenceLength}`);
      }
      const groups = T / sequenceLength;
      const c = new Float64Array(groups * E);
      const perChoice = E / (this.k * sequenceLength * sequenceLength * groups);
      for (let i = 0; i < indices.length; i++) {
        c[Math.floor(i / this.k / sequenceLength) * E + indices[i]!]! += perChoice;
      }
      for (let t = 0; t < T; t++) {
        const g = Math.floor(t / sequenceLength);
        for (let e = 0; e < E; e++) {
          value += coef * this.probs[t * E + e]! * c[g * E + e]!;
          dProbs[t * E + e]! += coef * c[g * E + e]!;
        }
      }
    };
    balance(losses.auxLossCoef, T);
    balance(losses.seqAuxLossCoef, losses.sequenceLength);
    const lse = new Float64Array(losses.zLossCoef > 0 ? T : 0);
    for (let t = 0; t < lse.length; t++) {
      const o = t * E;
      let max = -Infinity;
      for (let e = o; e < o + E; e++) max = Math.max(max, this.z[e]!);
      let sum = 0;
      for (let e = o; e < o + E; e++) sum += Math.exp(this.z[e]! - max);
      lse[t] = max + Math.log(sum);
      value += (losses.zLossCoef * lse[t]! * lse[t]!) / T;
    }
    const grad = () => {
      const dz = new Float64Array(T * E);
      if (losses.auxLossCoef > 0 || losses.seqAuxLossCoef > 0) this.probsToLogits(dProbs, dz);
      const soft = new Float64Array(E);
      for (let t = 0; t < lse.length; t++) {
        // d lse_t / dz_t = softmax(z_t)
        softmaxRow(this.z, t * E, E, soft, 0);
        const scale = (2 * losses.zLossCoef * lse[t]!) / T;
        for (let e = 0; e < E; e++) dz[t * E + e]! += scale * soft[e]!;
      }
      return this.toRawLogits(dz);
    };
    return {value, grad};
  }

  /** dz += ∂P/∂z · dProbs for every token (P = softmax(z), or s / Σ s for sigmoid scores). */
  private probsToLogits(dProbs: Float64Array, dz: Float64Array): void {
    const E = this.numExperts;
    const dScores = new Float64Array(E);
    for (let t = 0; t < this.numTokens; t++) {
      const o = t * E;
      if (this.options.scoring === 'softmax') {
        dScores.set(dProbs.subarray(o, o + E));
      } else {
        // P_i = s_i / Q, Q = Σ s: dL/ds_j = (dP_j − Σ_i dP_i·P_i) / Q.
        let q = 0;
        let dot = 0;
        for (let e = 0; e < E; e++) {
          q += this.scores[o + e]!;
          dot += dProbs[o + e]! * this.probs[o + e]!;
        }
        for (let e = 0; e < E; e++) dScores[e] = (dProbs[o + e]! - dot) / q;
      }
      this.scoresToLogits(t, dScores, dz);
    }
  }
}

/** Softmax of v[offset, offset + n) into out, at `outOffset` (default: the same offset). */
function softmaxRow(v: Float64Array, offset: number, n: number, out: Float64Array, outOffset = offset): void {
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, v[offset + i]!);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp(v[offset + i]! - max);
    out[outOffset + i] = e;
    sum += e;
  }
  for (let i = 0; i < n; i++) out[outOffset + i]! /= sum;
}
