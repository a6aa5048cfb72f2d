import * as tf from '@tensorflow/tfjs';
import {weightedMean} from './losses.js';

export interface DistillationLossOptions {
  /** Softmax temperature T (> 0): above 1 the teacher's small probabilities carry more signal. Default 2. */
  temperature?: number;
  /** Share of the loss taken by the teacher's soft labels, in [0, 1]. Default 0.5. */
  alpha?: number;
  /** Per-example weights [batch] (sample weights); default 1. */
  weights?: tf.Tensor;
  /** 1 where the example has a label, 0 where it has only the teacher's logits [batch]; default all 1. */
  labelMask?: tf.Tensor;
}

/**
 * KL(softmax(t/T) ‖ softmax(s/T)) per row of logits [..., C] → [...]. Gradients are taken with
 * respect to the student only (the teacher's logits come from outside the trained variables).
 */
export function softKl(studentLogits: tf.Tensor, teacherLogits: tf.Tensor, temperature: number): tf.Tensor {
  return tf.tidy(() => {
    const logPt = tf.logSoftmax(tf.div(teacherLogits, temperature));
    const logPs = tf.logSoftmax(tf.div(studentLogits, temperature));
    return tf.sum(tf.mul(tf.exp(logPt), tf.sub(logPt, logPs)), -1);
  });
}

/**
 * Knowledge distillation (Hinton, Vinyals & Dean 2015, "Distilling the Knowledge in a Neural
 * Network", §2): alpha·T²·KL(softmax(t/T) ‖ softmax(s/T)) + (1 − alpha)·CE(labels, s).
 * T² keeps the soft term's gradients the same size as T changes (they scale as 1/T²).
 * student/teacher logits [batch, C], labels [batch] int32. The KL term averages over every example,
 * the cross-entropy over the labelled ones (`labelMask`), so unlabelled transfer rows teach through
 * the teacher alone and do not dilute the label term; a batch without labels has CE 0.
 */
export function distillationLoss(
  studentLogits: tf.Tensor,
  teacherLogits: tf.Tensor,
  labels: tf.Tensor,
  options: DistillationLossOptions = {},
): tf.Scalar {
  const temperature = options.temperature ?? 2;
  const alpha = options.alpha ?? 0.5;
  if (!(temperature > 0)) throw new RangeError(`temperature must be > 0, got ${temperature}`);
  if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`alpha must be in [0, 1], got ${alpha}`);
  return tf.tidy(() => {
    const n = studentLogits.shape[0]!;
    const weights = options.weights ?? tf.ones([n]);
    const mask = options.labelMask ?? tf.ones([n]);
    const parts: tf.Scalar[] = [];
    if (alpha > 0) {
      const kl = softKl(studentLogits, teacherLogits, temperature);
      parts.push(tf.mul(weightedMean(kl, weights), alpha * temperature * temperature));
    }
    if (alpha < 1) {
      const onehot = tf.oneHot(tf.cast(labels, 'int32'), studentLogits.shape.at(-1)!);
      const ce = tf.losses.softmaxCrossEntropy(onehot, studentLogits, undefined, 0, tf.Reduction.NONE);
      parts.push(tf.mul(weightedMean(ce, tf.mul(weights, mask)), 1 - alpha));
    }
    return (parts.length === 1 ? parts[0]! : tf.add(parts[0]!, parts[1]!)) as tf.Scalar;
  });
}
