import * as tf from '@tensorflow/tfjs';
import {F32, type NativeOps, nativeOps} from '../backend/native-ops.js';

/** Σ(w·x) / Σw, or the plain mean when there are no weights. Weights broadcast over trailing axes. */
export function weightedMean(values: tf.Tensor, weights?: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    if (!weights) return tf.mean(values) as tf.Scalar;
    const w =
      weights.rank < values.rank
        ? tf.broadcastTo(expandTrailing(weights, values.rank), values.shape)
        : weights;
    return tf.div(tf.sum(tf.mul(values, w)), tf.maximum(tf.sum(w), 1e-12)) as tf.Scalar;
  });
}

function expandTrailing(t: tf.Tensor, rank: number): tf.Tensor {
  let out = t;
  while (out.rank < rank) out = tf.expandDims(out, -1);
  return out;
}

/**
 * Cross-entropy of integer labels against logits over the last axis (classes or vocabulary):
 * logits [..., C], labels [...] int32 in [0, C), weights [batch] or [...] optional. tfjs's softmax
 * cross-entropy carries a fused gradient (softmax − one-hot), cheaper than differentiating
 * log-softmax; on tfjs-node the loss and that gradient come from one TensorFlow op
 * (SparseSoftmaxCrossEntropyWithLogits) instead of ~15 tfjs ops forward and ~10 backward.
 */
export function sparseCrossEntropy(logits: tf.Tensor, labels: tf.Tensor, weights?: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const classes = logits.shape.at(-1)!;
    const ops = nativeOps('loss');
    const perExample = ops
      ? tf.reshape(nativeSparseCrossEntropy(ops, tf.reshape(logits, [-1, classes]), labels), labels.shape)
      : tf.losses.softmaxCrossEntropy(
          tf.oneHot(tf.cast(labels, 'int32'), classes),
          logits,
          undefined,
          0,
          tf.Reduction.NONE,
        );
    return weightedMean(perExample, weights);
  });
}

/** Per-row cross-entropy of logits [n, C] and labels [n] as one TensorFlow op, with its gradient. */
function nativeSparseCrossEntropy(ops: NativeOps, logits: tf.Tensor, labels: tf.Tensor): tf.Tensor {
  const ids = tf.reshape(tf.cast(labels, 'int32'), [-1]);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const attrs = {T: F32, Tlabels: {type: 'int32'}} as const;
    // [n] losses and [n, C] their gradient, softmax(x) − one-hot.
    const [loss, backprop] = ops.run('SparseSoftmaxCrossEntropyWithLogits', attrs, [x, ids], 2);
    save([backprop!]);
    return {
      value: loss!,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(saved[0]!, tf.expandDims(dy, -1)),
    };
  });
  return op(logits);
}

/** Fraction of argmax predictions equal to the labels (weighted when weights are given). */
export function accuracy(logits: tf.Tensor, labels: tf.Tensor, weights?: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const hits = tf.cast(tf.equal(tf.argMax(logits, -1), tf.cast(labels, 'int32')), 'float32');
    return weightedMean(hits, weights);
  });
}

/**
 * Per-class weights n / (k · count_c) ("balanced", as scikit-learn defines it): each class then
 * weighs as much as the others in the loss. Classes absent from `labels` get 0.
 */
export function balancedClassWeights(labels: readonly number[], numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (const label of labels) counts[label]! += 1;
  const present = counts.filter((c) => c > 0).length;
  return counts.map((c) => (c === 0 ? 0 : labels.length / (present * c)));
}

/**
 * The model's own losses summed: MoE auxiliary losses and weight regularizers that layers add with
 * `addLoss`. A loss function adds this to the task loss, inside the gradient tape.
 */
export function modelLosses(model: tf.LayersModel): tf.Scalar {
  return tf.tidy(() => {
    const losses = model.calculateLosses();
    return (losses.length === 0 ? tf.scalar(0) : tf.addN(losses)) as tf.Scalar;
  });
}
