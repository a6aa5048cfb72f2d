import * as tf from '@tensorflow/tfjs';
import {type DispatchLayout, type DispatchPlan, planDispatch} from './dispatch-plan.js';
import {balanceCoefficients} from './moe-losses.js';
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
  /** The plan's row layout, as for `planDispatch`. Default 'chunks'. */
  layout?: DispatchLayout | 'auto';
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
    opts.layout,
  );
  const rowWeights = jsOp(logits, router.rowWeights(plan), [plan.tokenIndex.length, 1], (dy) =>
    router.rowWeightsGrad(plan, dy),
  ) as tf.Tensor2D;
  let aux: tf.Scalar | null = null;
  if (opts.losses) {
    const {value, grad} = router.auxLoss(plan.indices, opts.losses);
    aux = jsOp(logits, Float32Array.of(value), [], (dy) => scaleInPlace(grad(), dy[0]!)) as tf.Scalar;
  }
  return {plan, rowWeights, aux};
}

function scaleInPlace(values: Float32Array, factor: number): Float32Array {
  if (factor !== 1) for (let i = 0; i < values.length; i++) values[i]! *= factor;
  return values;
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

/**
 * The router's numbers for one call: scores, probabilities, choices and gradients. Scores are
 * float64; large scratch arrays are few (each [T, E] array is allocated off the JS heap, and many
 * of them per call cost more in allocation and GC than the arithmetic). Plain loops on locals
 * throughout: TypedArray.from with a map function is ~100x slower in V8.
 */
class RouterMath {
  /** s: softmax or sigmoid of z = logits / temperature, [T·E]. */
  private readonly scores: Float64Array;
  /** P: s normalised over all experts; the same array as `scores` for softmax. */
  private readonly probs: Float64Array;
  private indices: Int32Array = new Int32Array(0);
  /** [T·k] gate weights of the choices, and each token's renormaliser (1 without normTopK). */
  private weights = new Float64Array(0);
  private norms = new Float64Array(0);
  private readonly k: number;

  constructor(
    private readonly logits: Float32Array,
    private readonly numTokens: number,
    private readonly numExperts: number,
    private readonly options: RoutingOptions,
  ) {
    const n = logits.length;
    const E = numExperts;
    this.k = options.topK;
    const inv = 1 / options.temperature;
    const scores = new Float64Array(n);
    if (options.scoring === 'softmax') {
      for (let o = 0; o < n; o += E) softmaxRow(logits, inv, o, E, scores, o);
      this.probs = scores;
    } else {
      const probs = new Float64Array(n);
      for (let o = 0; o < n; o += E) {
        let sum = 0;
        for (let e = o; e < o + E; e++) {
          const s = 1 / (1 + Math.exp(-logits[e]! * inv));
          scores[e] = s;
          sum += s;
        }
        for (let e = o; e < o + E; e++) probs[e] = scores[e]! / sum;
      }
      this.probs = probs;
    }
    this.scores = scores;
  }

  /** Top-k experts per token by score + bias, token-major [T·k]; fixes the gate weights. */
  choose(bias?: ArrayLike<number>): Int32Array {
    const E = this.numExperts;
    let choice = this.scores;
    if (bias) {
      choice = new Float64Array(this.scores.length);
      for (let i = 0; i < choice.length; i++) choice[i] = this.scores[i]! + bias[i % E]!;
    }
    const indices = chooseExperts(choice, this.numTokens, E, this.options, bias !== undefined);
    // The chosen scores, renormalised and scaled as configured.
    const {k, scores} = this;
    const {normTopK, routeScale} = this.options;
    const weights = new Float64Array(indices.length);
    const norms = new Float64Array(this.numTokens).fill(1);
    for (let t = 0; t < this.numTokens; t++) {
      let sum = 0;
      for (let j = t * k; j < t * k + k; j++) {
        const s = scores[t * E + indices[j]!]!;
        weights[j] = s;
        sum += s;
      }
      const norm = normTopK ? sum + 1e-20 : 1;
      norms[t] = norm;
      for (let j = t * k; j < t * k + k; j++) weights[j] = (weights[j]! / norm) * routeScale;
    }
    this.indices = indices;
    this.weights = weights;
    this.norms = norms;
    return indices;
  }

  /** [R] the weight of each plan row: its choice's gate weight, 0 for padding. */
  rowWeights(plan: DispatchPlan): Float32Array {
    const {weights} = this;
    const {rowChoice} = plan;
    const out = new Float32Array(rowChoice.length);
    for (let r = 0; r < out.length; r++) {
      const c = rowChoice[r]!;
      if (c >= 0) out[r] = weights[c]!;
    }
    return out;
  }

  /** d(loss)/d(raw logits) [T·E] from d(loss)/d(row weights) [R]. */
  rowWeightsGrad(plan: DispatchPlan, dRows: Float32Array): Float32Array {
    const {k, scores, indices, norms} = this;
    const E = this.numExperts;
    const {routeScale, normTopK} = this.options;
    const dWeights = new Float64Array(indices.length); // d/d(choice weight); dropped choices stay 0
    const {rowChoice} = plan;
    for (let r = 0; r < rowChoice.length; r++) {
      const c = rowChoice[r]!;
      if (c >= 0) dWeights[c] = dRows[r]! * routeScale;
    }
    const dz = new Float32Array(this.numTokens * E);
    const dScores = new Float64Array(E); // one token's d/ds, nonzero at its choices only
    for (let t = 0; t < this.numTokens; t++) {
      const norm = norms[t]!;
      // w_j = s_j / N with N = Σ s_i + ε: dw_j/ds_i = δ_ij / N − s_j / N².
      let cross = 0;
      if (normTopK) {
        for (let j = t * k; j < t * k + k; j++) cross += dWeights[j]! * scores[t * E + indices[j]!]!;
        cross /= norm * norm;
      }
      for (let j = t * k; j < t * k + k; j++) dScores[indices[j]!]! += dWeights[j]! / norm - cross;
      this.scoresToLogits(t * E, dScores, dz);
      for (let j = t * k; j < t * k + k; j++) dScores[indices[j]!] = 0;
    }
    return dz;
  }

  /**
   * Chain rule through the scoring function and the temperature for the token at offset o:
   * dz[o .. o + E) += ∂s/∂(raw logits) · dScores.
   */
  private scoresToLogits(o: number, dScores: Float64Array, dz: Float32Array): void {
    const E = this.numExperts;
    const {scores} = this;
    const inv = 1 / this.options.temperature;
    if (this.options.scoring === 'softmax') {
      let dot = 0;
      for (let e = 0; e < E; e++) dot += dScores[e]! * scores[o + e]!;
      for (let e = 0; e < E; e++) dz[o + e]! += scores[o + e]! * (dScores[e]! - dot) * inv;
    } else {
      for (let e = 0; e < E; e++) {
        const s = scores[o + e]!;
        dz[o + e]! += dScores[e]! * s * (1 - s) * inv;
      }
    }
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
    const {k, probs} = this;
    let value = 0;
    if (T === 0) return {value, grad: () => new Float32Array(0)};
    // dL/dP_te = Σ over the balance losses of coef·c[group of t, e]: per group, not per token.
    const terms: {perGroup: Float64Array; sequenceLength: number}[] = [];
    const balance = (coef: number, sequenceLength: number) => {
      if (coef <= 0) return;
      const c = balanceCoefficients(indices, k, T, E, sequenceLength);
      for (let i = 0; i < c.length; i++) c[i]! *= coef;
      for (let t = 0; t < T; t++) {
        const g = Math.floor(t / sequenceLength) * E;
        for (let e = 0; e < E; e++) value += probs[t * E + e]! * c[g + e]!;
      }
      terms.push({perGroup: c, sequenceLength});
    };
    balance(losses.auxLossCoef, T);
    balance(losses.seqAuxLossCoef, losses.sequenceLength);
    const {zLossCoef} = losses;
    const inv = 1 / this.options.temperature;
    const lse = new Float64Array(zLossCoef > 0 ? T : 0);
    for (let t = 0; t < lse.length; t++) {
      const o = t * E;
      let max = -Infinity;
      for (let e = o; e < o + E; e++) max = Math.max(max, this.logits[e]! * inv);
      let sum = 0;
      for (let e = o; e < o + E; e++) sum += Math.exp(this.logits[e]! * inv - max);
      lse[t] = max + Math.log(sum);
      value += (zLossCoef * lse[t]! * lse[t]!) / T;
    }
    const grad = () => {
      const dz = new Float32Array(T * E);
      const dProbs = new Float64Array(E);
      const dScores = new Float64Array(E);
      const soft = new Float64Array(E);
      const [first, second] = terms;
      for (let t = 0; t < T; t++) {
        const o = t * E;
        if (first) {
          const g1 = Math.floor(t / first.sequenceLength) * E;
          for (let e = 0; e < E; e++) dProbs[e] = first.perGroup[g1 + e]!;
          if (second) {
            const g2 = Math.floor(t / second.sequenceLength) * E;
            for (let e = 0; e < E; e++) dProbs[e]! += second.perGroup[g2 + e]!;
          }
          this.probsToScores(o, dProbs, dScores);
          this.scoresToLogits(o, dScores, dz);
        }
        if (lse.length > 0) {
          // d lse_t / dz_t = softmax(z_t); z = raw / temperature.
          softmaxRow(this.logits, inv, o, E, soft, 0);
          const scale = ((2 * zLossCoef * lse[t]!) / T) * inv;
          for (let e = 0; e < E; e++) dz[o + e]! += scale * soft[e]!;
        }
      }
      return dz;
    };
    return {value, grad};
  }

  /** dScores = ∂P/∂s · dProbs for the token at offset o (P = s for softmax, s / Σ s for sigmoid). */
  private probsToScores(o: number, dProbs: Float64Array, dScores: Float64Array): void {
    const E = this.numExperts;
    if (this.options.scoring === 'softmax') {
      dScores.set(dProbs);
      return;
    }
    // P_i = s_i / Q, Q = Σ s: dL/ds_j = (dP_j − Σ_i dP_i·P_i) / Q.
    let q = 0;
    let dot = 0;
    for (let e = 0; e < E; e++) {
      q += this.scores[o + e]!;
      dot += dProbs[e]! * this.probs[o + e]!;
    }
    for (let e = 0; e < E; e++) dScores[e] = (dProbs[e]! - dot) / q;
  }
}

/** Softmax of scale·v[offset, offset + n) into out[outOffset ..]. */
function softmaxRow(
  v: Float32Array,
  scale: number,
  offset: number,
  n: number,
  out: Float64Array,
  outOffset: number,
): void {
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, v[offset + i]! * scale);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp(v[offset + i]! * scale - max);
    out[outOffset + i] = e;
    sum += e;
  }
  for (let i = 0; i < n; i++) out[outOffset + i]! /= sum;
}
