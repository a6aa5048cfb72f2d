import * as tf from '@tensorflow/tfjs';
import {nativeOps} from '../backend/native-ops.js';
import {fastMatMul} from './moe/fast-matmul.js';

/**
 * A projection child (Dense or LoRADense) applied to rows x [n, in] → [n, out]. A plain Dense
 * without activation runs as x·W (+ b) with fastMatMul — TensorFlow's 2-D MatMul on tfjs-node, and
 * two MatMuls with transpose flags in the gradient — because Dense.apply goes through tf.matMul,
 * which reshapes both operands to rank 3 for BatchMatMulV2 and back (three reshapes forward, more
 * in the gradient) and adds Layer.apply's bookkeeping. Anything else runs its own apply, and so does
 * every layer off the native backend or with the `rows` native path off (`DSK_NATIVE_OPS`).
 */
export function applyRows(
  layer: tf.layers.Layer,
  x: tf.Tensor2D,
  kwargs: {training?: boolean} = {},
): tf.Tensor2D {
  if (!nativeOps('rows') || !isPlainDense(layer)) return layer.apply(x, kwargs) as tf.Tensor2D;
  // A Dense's weights are [kernel] or [kernel, bias].
  const [kernel, bias] = layer.weights.map((w) => w.read());
  const y = fastMatMul(x, kernel as tf.Tensor2D);
  return bias ? (tf.add(y, bias) as tf.Tensor2D) : y;
}

/** A built tfjs Dense with the identity activation (the kit's projections). */
export function isPlainDense(layer: tf.layers.Layer): boolean {
  const activation = (layer as unknown as {activation?: {getClassName(): string}}).activation;
  return layer.getClassName() === 'Dense' && layer.built && activation?.getClassName() === 'linear';
}
