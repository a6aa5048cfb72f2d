import * as tf from '@tensorflow/tfjs';
import {nativeOps} from '../../backend/native-ops.js';
import {routerZLoss} from './moe-losses.js';
import type {RouterLossCoefs} from './router-op.js';
import type {RoutingOptions} from './routing.js';

/** What the in-graph router returns: every tensor stays in TensorFlow, nothing is read back. */
export interface GraphRouted {
  /** [T, k] int32 chosen experts, best first (TopKV2; ties to the lower index, as `chooseExperts`). */
  indices: tf.Tensor2D;
  /** [T, k] gate weights of the choices; differentiable with respect to the router logits. */
  weights: tf.Tensor2D;
  /** [E] float32 choices routed to each expert: its load. */
  load: tf.Tensor1D;
  /** The weighted sum of the aux losses, when asked for; differentiable. */
  aux: tf.Scalar | null;
}

/**
 * Whether `routeInGraph` covers a call: on tfjs-node (the `router` native path), without a capacity
 * (an expert's rows would depend on a priority order across tokens), without a balancing bias
 * (aux-loss-free balancing reads the load back after every call to move the bias) and without
 * group-limited routing. Other calls route in JS (`routeRows`).
 */
export function graphRoutingCovers(
  options: RoutingOptions & {biasUpdateSpeed: number},
  capacity: number | null,
): boolean {
  const groupLimited = options.numGroups > 1 && options.topKGroups < options.numGroups;
  return (
    nativeOps('router') !== undefined && capacity === null && options.biasUpdateSpeed === 0 && !groupLimited
  );
}

/**
 * The router after its matmul as TensorFlow ops, so a step that runs it can be captured: scores
 * (softmax or sigmoid of logits / temperature), the top k by TensorFlow's TopKV2, the chosen scores
 * gathered through a one-hot mask (their gradient is tfjs's), renormalised and scaled, the load
 * counted from the mask, and the aux losses (Switch, sequence-wise, z) as the formulas of
 * moe-losses.ts with the counts from the mask. Same results as `routeRows` (tests compare them).
 * logits [T, E] (raw x·W_router).
 */
export function routeInGraph(
  rawLogits: tf.Tensor2D,
  options: RoutingOptions,
  losses: (RouterLossCoefs & {sequenceLength: number}) | null,
): GraphRouted {
  const [numTokens, numExperts] = rawLogits.shape;
  const {topK} = options;
  const logits = options.temperature === 1 ? rawLogits : tf.div(rawLogits, options.temperature);
  const scores = options.scoring === 'softmax' ? tf.softmax(logits) : tf.sigmoid(logits); // [T, E]
  // TopKV2 runs untaped (a native op): the choice has no gradient, the gathered weights do.
  const ops = nativeOps('router')!;
  const k = tf.scalar(topK, 'int32');
  const [, chosen] = ops.run('TopKV2', {sorted: true, T: {type: 'float32'}}, [scores, k], 2);
  const indices = chosen as tf.Tensor2D; // [T, k] int32
  const mask = tf.oneHot(indices, numExperts) as tf.Tensor3D; // [T, k, E]
  let weights = tf.sum(tf.mul(tf.expandDims(scores, 1), mask), -1) as tf.Tensor2D; // [T, k]
  if (options.normTopK) weights = tf.div(weights, tf.add(tf.sum(weights, -1, true), 1e-20));
  if (options.routeScale !== 1) weights = tf.mul(weights, options.routeScale);
  const load = tf.sum(mask, [0, 1]) as tf.Tensor1D; // [E]
  let aux: tf.Scalar | null = null;
  if (losses && numTokens > 0) {
    const probs = (
      options.scoring === 'softmax' ? scores : tf.div(scores, tf.sum(scores, -1, true))
    ) as tf.Tensor2D;
    const terms: tf.Scalar[] = [];
    const balance = (coef: number, sequenceLength: number) => {
      if (coef > 0) terms.push(tf.mul(balanceFromMask(probs, mask, topK, sequenceLength), coef));
    };
    balance(losses.auxLossCoef, numTokens);
    balance(losses.seqAuxLossCoef, losses.sequenceLength);
    if (losses.zLossCoef > 0) terms.push(tf.mul(routerZLoss(logits as tf.Tensor2D), losses.zLossCoef));
    aux = (terms.length === 0 ? tf.scalar(0) : terms.length === 1 ? terms[0]! : tf.addN(terms)) as tf.Scalar;
  } else if (losses) {
    aux = tf.scalar(0);
  }
  return {indices, weights, load, aux};
}

/**
 * `balanceLoss` (moe-losses.ts) with the choices counted from their one-hot mask in TensorFlow:
 * Σ_g Σ_s Σ_i P_gsi · c_gi, c_gi = E·count_gi / (k·S·S·G). probs [T, E], mask [T, k, E].
 */
function balanceFromMask(
  probs: tf.Tensor2D,
  mask: tf.Tensor3D,
  topK: number,
  sequenceLength: number,
): tf.Scalar {
  const [numTokens, numExperts] = probs.shape;
  if (numTokens % sequenceLength !== 0) {
    throw new Error(`balanceLoss: ${numTokens} tokens do not split into sequences of ${sequenceLength}`);
  }
  const groups = numTokens / sequenceLength;
  const perChoice = numExperts / (topK * sequenceLength * sequenceLength * groups);
  const counts = tf.sum(tf.reshape(mask, [groups, sequenceLength * topK, numExperts]), 1, true); // [G, 1, E]
  const grouped = tf.reshape(probs, [groups, sequenceLength, numExperts]);
  return tf.mul(tf.sum(tf.mul(grouped, counts)), perChoice) as tf.Scalar;
}
