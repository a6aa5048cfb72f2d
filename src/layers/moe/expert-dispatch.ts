import * as tf from '@tensorflow/tfjs';
import type {DispatchPlan} from './dispatch-plan.js';
import {type ExpertActivation, type ExpertWeights, expertFfn, mapExpertWeights} from './expert-ffn.js';
import {gatherBlocks, mapRows} from './gather-rows.js';
import {groupedMatMul} from './grouped-matmul.js';

/**
 * Sparse MoE: each expert runs only on the tokens routed to it. Gathers the tokens into the plan's
 * rows, runs them through their experts — one batched matmul over padded chunks, or in the grouped
 * layout one 2-D matmul per expert on its own rows — weights each output row by its
 * gate weight and sums each token's k rows. Work is O(T·k) expert rows plus the plan's padding, not
 * O(T·E); the op count does not grow with E.
 * x [T, d], rowWeights [R, 1] the gate weight of each plan row (from `routeRows`),
 * experts stacked [E, ...] → [T, d].
 */
export function sparseDispatch(
  x: tf.Tensor2D,
  rowWeights: tf.Tensor2D,
  plan: DispatchPlan,
  experts: ExpertWeights,
  activation: ExpertActivation,
): tf.Tensor2D {
  return tf.tidy(() => {
    const [numTokens, d] = x.shape;
    if (plan.tokenIndex.length === 0) return tf.zeros([numTokens, d]);
    const {topK, chunkSize, tokenIndex, combineIndex} = plan;
    // tokens → expert rows; the transpose sums each token's k rows (dropped choices add nothing).
    const rows = mapRows(x, {index: tokenIndex, group: 1}, {index: combineIndex, group: topK}); // [rows, d]
    let outputs: tf.Tensor;
    if (plan.layout === 'grouped') {
      const matMul = (a: tf.Tensor, w: tf.Tensor) =>
        groupedMatMul(a as tf.Tensor2D, w as tf.Tensor3D, plan.counts);
      outputs = expertFfn(rows, experts, activation, matMul); // [rows, d]
    } else {
      const numChunks = tokenIndex.length / chunkSize;
      const chunkWeights = plan.chunkExpert ? gatherExperts(experts, plan.chunkExpert) : experts;
      outputs = expertFfn(tf.reshape(rows, [numChunks, chunkSize, d]), chunkWeights, activation);
    }
    const weighted = tf.mul(tf.reshape(outputs, [-1, d]), rowWeights) as tf.Tensor2D; // [rows, d]
    // expert rows → tokens, summing the k choices. The transpose gives padding rows a stray
    // gradient (token 0's), but padding rows were multiplied by 0, so nothing reaches the weights.
    return mapRows(weighted, {index: combineIndex, group: topK}, {index: tokenIndex, group: 1});
  });
}

/**
 * The dense reference: every expert on every token, masked to the chosen (and kept) experts. Same
 * result as `sparseDispatch` at about E/k times the work; for tests and benchmarks.
 * x [T, d], weights [T, k], experts stacked [E, ...] → [T, d].
 */
export function denseDispatch(
  x: tf.Tensor2D,
  weights: tf.Tensor2D,
  plan: DispatchPlan,
  experts: ExpertWeights,
  activation: ExpertActivation,
): tf.Tensor2D {
  return tf.tidy(() => {
    const {numTokens, topK, numExperts} = plan;
    const mask = new Float32Array(numTokens * topK * numExperts); // [T, k, E] one-hot of kept choices
    plan.indices.forEach((e, i) => {
      if (plan.combineIndex[i]! >= 0) mask[i * numExperts + e] = 1;
    });
    const gates = tf.sum(
      tf.mul(tf.expandDims(weights, -1), tf.tensor3d(mask, [numTokens, topK, numExperts])),
      1,
    );
    const all = expertFfn(tf.tile(tf.expandDims(x, 0), [numExperts, 1, 1]), experts, activation); // [E, T, d]
    return tf.sum(tf.mul(all, tf.expandDims(tf.transpose(gates), -1)), 0) as tf.Tensor2D;
  });
}

/** Each chunk's expert weights (and adapters), [E, ...] → [chunks, ...]. */
function gatherExperts(experts: ExpertWeights, chunkExpert: Int32Array): ExpertWeights {
  return mapExpertWeights(experts, (w) => gatherBlocks(w, chunkExpert));
}
