import * as tf from '@tensorflow/tfjs';

// Auxiliary losses of a router, as pure functions of its outputs. Each returns an unscaled scalar;
// the MoE layer multiplies by the coefficient in its config and adds them in training only.

/**
 * Load-balancing loss over groups of `sequenceLength` consecutive tokens, averaged over groups:
 * E · Σ_i f_i · P_i with f_i the fraction of the group's T·k choices that picked expert i (counted,
 * no gradient) and P_i the mean over the group's tokens of its probability over ALL experts (the
 * gradient path). 1 when routing is uniform, up to E when it collapses onto one expert.
 * probs [T, E]; indices [T*k] token-major.
 */
export function balanceLoss(
  probs: tf.Tensor2D,
  indices: ArrayLike<number>,
  topK: number,
  sequenceLength: number = probs.shape[0],
): tf.Scalar {
  return tf.tidy(() => {
    const [numTokens, numExperts] = probs.shape;
    if (numTokens === 0) return tf.scalar(0);
    const groups = numTokens / sequenceLength;
    const c = balanceCoefficients(indices, topK, numTokens, numExperts, sequenceLength);
    const grouped = groups === 1 ? probs : tf.reshape(probs, [groups, sequenceLength, numExperts]);
    const weights = tf.tensor(Float32Array.from(c), groups === 1 ? [1, numExperts] : [groups, 1, numExperts]);
    return tf.sum(tf.mul(grouped, weights));
  });
}

/**
 * The counted half of the balance loss: the loss is Σ_g Σ_i E·f_gi · mean_s P_gsi / G, which is
 * Σ_gsi P_gsi · c_gi with c_gi = E·count_gi / (k·S·S·G), count_gi the choices of group g's tokens
 * for expert i. Returns c [G·E]; throws when T does not split into sequences of S. indices [T*k].
 */
export function balanceCoefficients(
  indices: ArrayLike<number>,
  topK: number,
  numTokens: number,
  numExperts: number,
  sequenceLength: number,
): Float64Array {
  if (numTokens % sequenceLength !== 0) {
    throw new Error(`balanceLoss: ${numTokens} tokens do not split into sequences of ${sequenceLength}`);
  }
  const groups = numTokens / sequenceLength;
  const c = new Float64Array(groups * numExperts);
  const perChoice = numExperts / (topK * sequenceLength * sequenceLength * groups);
  for (let i = 0; i < indices.length; i++) {
    c[Math.floor(i / topK / sequenceLength) * numExperts + indices[i]!]! += perChoice;
  }
  return c;
}

/** Switch Transformer / GShard balance loss (Fedus et al. 2021, eq. 4): over the whole batch. */
export function switchLoss(probs: tf.Tensor2D, indices: ArrayLike<number>, topK: number): tf.Scalar {
  return balanceLoss(probs, indices, topK);
}

/**
 * DeepSeek-V3's complementary sequence-wise balance loss (§2.1.2, eqs. 17–20): the same formula
 * per sequence, averaged over sequences, with P from the normalised affinities.
 */
export function sequenceBalanceLoss(
  probs: tf.Tensor2D,
  indices: ArrayLike<number>,
  topK: number,
  sequenceLength: number,
): tf.Scalar {
  return balanceLoss(probs, indices, topK, sequenceLength);
}

/**
 * Router z-loss (ST-MoE, Zoph et al. 2022, eq. 5): mean over tokens of logsumexp(logits)², which
 * keeps router logits small and the softmax numerically stable. logits [T, E].
 */
export function routerZLoss(logits: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => (logits.shape[0] === 0 ? tf.scalar(0) : tf.mean(tf.square(tf.logSumExp(logits, -1)))));
}
