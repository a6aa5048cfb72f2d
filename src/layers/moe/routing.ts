import * as tf from '@tensorflow/tfjs';
import {gatherRows} from './gather-rows.js';

export const ROUTER_SCORINGS = ['softmax', 'sigmoid'] as const;
export type RouterScoring = (typeof ROUTER_SCORINGS)[number];

/** How a router turns logits into a choice of experts and their weights (checked by the MoE layer). */
export interface RoutingOptions {
  /** Experts per token. */
  topK: number;
  /** softmax (Switch, DeepSeek-V2) or sigmoid (DeepSeek-V3) affinities. */
  scoring: RouterScoring;
  /** Renormalise the k chosen weights to sum to 1. */
  normTopK: boolean;
  /** Multiplier on the chosen weights (DeepSeek-V3 `route_scale`). */
  routeScale: number;
  /** Logits are divided by this before scoring. */
  temperature: number;
  /** Experts are split into this many equal groups. 1: no group limit. */
  numGroups: number;
  /** A token may only use experts of its best `topKGroups` groups (DeepSeek-V3 node-limited routing). */
  topKGroups: number;
}

export interface RouterOutput {
  /** [T, E] logits / temperature: what the scoring function saw (for the z-loss). */
  logits: tf.Tensor2D;
  /** [T, E] affinities s (softmax or sigmoid); the weights are gathered from these. */
  scores: tf.Tensor2D;
  /** [T, E] affinities normalised over all experts, the P of the balance losses. */
  probs: tf.Tensor2D;
  /** [T*k] chosen experts, token-major, best first; chosen on the CPU, so not differentiable. */
  indices: Int32Array;
  /** [T, k] weights of the chosen experts; differentiable with respect to the router. */
  weights: tf.Tensor2D;
}

/**
 * Routes T tokens to k of E experts: scores the logits, picks experts by `scores + bias` (the bias
 * of aux-loss-free balancing, DeepSeek-V3 §2.1.2, steers the choice only), then gathers the weights
 * from the unbiased scores so the router gets gradients through exactly the experts it chose.
 * logits [T, E] (raw x·W_router); bias [E] or undefined.
 */
export function routeTokens(
  rawLogits: tf.Tensor2D,
  options: RoutingOptions,
  bias?: tf.Tensor1D,
): RouterOutput {
  const [numTokens, numExperts] = rawLogits.shape;
  const {topK} = options;
  const logits = options.temperature === 1 ? rawLogits : tf.div(rawLogits, options.temperature);
  const scores = options.scoring === 'softmax' ? tf.softmax(logits) : tf.sigmoid(logits);
  const probs = options.scoring === 'softmax' ? scores : tf.div(scores, tf.sum(scores, -1, true));
  // The one read-back of a MoE step: [T, E] floats, so the choice and the dispatch plan run in JS.
  const choice = bias ? tf.add(scores, bias) : scores;
  const indices = chooseExperts(choice.dataSync(), numTokens, numExperts, options, bias !== undefined);
  const flat = new Int32Array(indices.length); // row of each choice in scores viewed as [T*E, 1]
  for (let i = 0; i < indices.length; i++) flat[i] = Math.floor(i / topK) * numExperts + indices[i]!;
  let weights = tf.reshape(gatherRows(tf.reshape(scores, [-1]), flat), [numTokens, topK]);
  if (options.normTopK) weights = tf.div(weights, tf.add(tf.sum(weights, -1, true), 1e-20));
  if (options.routeScale !== 1) weights = tf.mul(weights, options.routeScale);
  return {logits, scores, probs, indices, weights} as RouterOutput;
}

/**
 * The top-k experts of each token by score, restricted to the token's best `topKGroups` groups
 * when `numGroups > 1`. A group's score is its best expert, or when the scores carry a balancing
 * bias the sum of its best two (DeepSeek-V3). Ties go to the lower index.
 * Pure: scores [T*E] row-major → [T*k].
 */
export function chooseExperts(
  scores: ArrayLike<number>,
  numTokens: number,
  numExperts: number,
  options: Pick<RoutingOptions, 'topK' | 'numGroups' | 'topKGroups'>,
  biased = false,
): Int32Array {
  const {topK, numGroups, topKGroups} = options;
  const groupSize = numExperts / numGroups;
  const limitGroups = numGroups > 1 && topKGroups < numGroups;
  const out = new Int32Array(numTokens * topK);
  const taken = new Uint8Array(Math.max(numExperts, numGroups));
  if (!limitGroups) {
    for (let t = 0; t < numTokens; t++)
      topIndices(scores, t * numExperts, numExperts, topK, out, t * topK, taken);
    return out;
  }
  const row = new Float64Array(numExperts);
  const groupScore = new Float64Array(numGroups);
  const keep = new Int32Array(topKGroups);
  const best = new Int32Array(2);
  // A group's score: its best expert, or with a balancing bias the sum of its best two.
  const top = biased && groupSize > 1 ? 2 : 1;
  for (let t = 0; t < numTokens; t++) {
    for (let e = 0; e < numExperts; e++) row[e] = scores[t * numExperts + e]!;
    for (let g = 0; g < numGroups; g++) {
      topIndices(row, g * groupSize, groupSize, top, best, 0, taken);
      groupScore[g] = row[g * groupSize + best[0]!]! + (top === 2 ? row[g * groupSize + best[1]!]! : 0);
    }
    topIndices(groupScore, 0, numGroups, topKGroups, keep, 0, taken);
    for (let g = 0; g < numGroups; g++) {
      if (!keep.includes(g)) row.fill(-Infinity, g * groupSize, (g + 1) * groupSize);
    }
    topIndices(row, 0, numExperts, topK, out, t * topK, taken);
  }
  return out;
}

/**
 * Indices (relative to `offset`) of the k largest of values[offset, offset + n), largest first,
 * ties to the lower index, written to out[outOffset, outOffset + k). `taken` is scratch of at least
 * n entries, so a token's choice allocates nothing.
 */
function topIndices(
  values: ArrayLike<number>,
  offset: number,
  n: number,
  k: number,
  out: Int32Array,
  outOffset: number,
  taken: Uint8Array,
): void {
  taken.fill(0, 0, n);
  for (let j = 0; j < k; j++) {
    let best = -1;
    let bestValue = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = values[offset + i]!;
      if (taken[i] === 0 && (best < 0 || v > bestValue)) {
        best = i;
        bestValue = v;
      }
    }
    taken[best] = 1;
    out[outOffset + j] = best;
  }
}
