import * as tf from '@tensorflow/tfjs';
import {F32, type NativeOps} from './native-ops.js';

// TensorFlow's name for a variable no other handle can look up (ResourceHandle::ANONYMOUS_NAME):
// each VarHandleOp with it makes a new variable, as tf.Variable does in eager Python.
const ANONYMOUS = 'cd2c89b7-88b7-44c8-ad83-06c2a9158347';

/**
 * A float32 TensorFlow resource variable in tfjs-node's context: the state TensorFlow's in-place
 * training ops (ResourceApplyAdam…) update. `read()` returns a tensor that shares the variable's
 * buffer; an update while such a read is alive copies the buffer first (TensorFlow's copy-on-write),
 * so a read never changes afterwards.
 */
export class NativeVariable {
  /** The resource handle, a scalar tensor tfjs stores as 'string'. */
  readonly handle: tf.Tensor;

  constructor(
    private readonly ops: NativeOps,
    initial: tf.Tensor,
  ) {
    const attrs = {container: '', shared_name: ANONYMOUS, dtype: F32, shape: {shape: initial.shape}};
    this.handle = tf.keep(ops.one('VarHandleOp', attrs, []));
    this.assign(initial);
  }

  /** Sets the variable to `value`'s contents; later updates of the variable never change `value`. */
  assign(value: tf.Tensor): void {
    this.ops.run('AssignVariableOp', {dtype: F32}, [this.handle, value], 0);
  }

  /** The current value, as a new tensor the caller owns. */
  read(): tf.Tensor {
    return this.ops.one('ReadVariableOp', {dtype: F32}, [this.handle]);
  }

  /** Destroys the variable and frees its handle. */
  dispose(): void {
    this.ops.run('DestroyResourceOp', {ignore_lookup_error: true}, [this.handle], 0);
    this.handle.dispose();
  }
}
