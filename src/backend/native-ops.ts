import * as tf from '@tensorflow/tfjs';

/**
 * TensorFlow ops by name on tfjs-node's backend (tfjs-node or tfjs-node-gpu), for kernels tfjs does
 * not reach: fused ones (SparseSoftmaxCrossEntropyWithLogits, ResourceApplyAdam), 2-D MatMul without
 * tf.matMul's reshapes to rank 3, reductions without its casts. Ops run eagerly in the backend's
 * own TensorFlow context; nothing is recorded on tfjs's gradient tape, so a caller that needs a
 * gradient wraps the op in tf.customGrad with the gradient written out (and a test against the
 * composed tfjs ops). Only on the native backend: `nativeOps()` is undefined elsewhere, and the
 * caller keeps its composed path for wasm and cpu.
 */
export interface NativeOps {
  /** Runs `op` and returns its `numOutputs` outputs (0 for ops that only update a resource). */
  run(op: string, attrs: Attrs, inputs: readonly tf.Tensor[], numOutputs: number): tf.Tensor[];
  /** Runs a single-output `op`. */
  one(op: string, attrs: Attrs, inputs: readonly tf.Tensor[]): tf.Tensor;
}

/**
 * Op attributes by name. A boolean, a string, a dtype (`{type}`), a shape (`{shape}`), an integer or
 * integer list (`{int}`) or a float (`{float}`).
 */
export type Attrs = Record<
  string,
  boolean | string | {type: tf.DataType} | {shape: number[]} | {int: number | number[]} | {float: number}
>;

/** float32, the type attribute (`T`, `dtype`) of nearly every op the kit runs by name. */
export const F32 = {type: 'float32'} as const;

interface NodeBinding {
  TF_ATTR_BOOL: number;
  TF_ATTR_TYPE: number;
  TF_ATTR_STRING: number;
  TF_ATTR_SHAPE: number;
  TF_ATTR_INT: number;
  TF_ATTR_FLOAT: number;
  TF_FLOAT: number;
  TF_INT32: number;
  TF_BOOL: number;
}

interface NodeBackend {
  binding: NodeBinding;
  executeMultipleOutputs(op: string, attrs: object[], inputs: readonly tf.Tensor[], n: number): tf.Tensor[];
}

/**
 * The places that run native ops, each of which `DSK_NATIVE_OPS` can turn off alone: the fused
 * cross-entropy (`loss`), the L2Loss gradient norm (`clip`), the AdamW update (`adamw`), the 2-D
 * projections of attention and SwiGLU (`rows`), the 2-D MatMul and BatchMatMulV3 of fastMatMul
 * and smallBatchMatMul (`matmul`) and the MoE router and dispatch as TensorFlow ops (`router`:
 * TopKV2, SplitV, InvertPermutation, so a captured step needs no read-back).
 */
export const NATIVE_PATHS = ['loss', 'clip', 'adamw', 'rows', 'matmul', 'router'] as const;
export type NativePath = (typeof NATIVE_PATHS)[number];

/**
 * The paths `DSK_NATIVE_OPS` enables: unset or `all` → every one, `none` → none, else a comma list
 * (`DSK_NATIVE_OPS=loss,adamw`). A debugging switch: to find which fused path changes a result.
 */
export function enabledNativePaths(value = process.env.DSK_NATIVE_OPS): ReadonlySet<NativePath> {
  const text = (value ?? '').trim();
  if (text === '' || text === 'all') return new Set(NATIVE_PATHS);
  if (text === 'none') return new Set();
  const names = text.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !(NATIVE_PATHS as readonly string[]).includes(n));
  if (unknown.length > 0) {
    throw new Error(
      `DSK_NATIVE_OPS=${text}: unknown path ${unknown.join(', ')} — use all, none or a comma list of ${NATIVE_PATHS.join(', ')}`,
    );
  }
  return new Set(names as NativePath[]);
}

const cache = new WeakMap<object, NativeOps>();
let composedOnly = 0;
let enabled: ReadonlySet<NativePath> | undefined;

/**
 * The op runner of the active backend when it is TensorFlow's native one and `path` is enabled
 * (see `enabledNativePaths`), else undefined.
 */
export function nativeOps(path: NativePath): NativeOps | undefined {
  if (composedOnly > 0 || tf.getBackend() !== 'tensorflow') return undefined;
  enabled ??= enabledNativePaths();
  if (!enabled.has(path)) return undefined;
  const backend = tf.backend() as unknown as NodeBackend;
  let ops = cache.get(backend);
  if (!ops) {
    ops = makeOps(backend);
    cache.set(backend, ops);
  }
  return ops;
}

/**
 * Runs `fn` as if the backend had no native ops, so every caller takes its composed tfjs path: how
 * tests compare a fused path with the composed one on the same backend, and benchmarks time both.
 * For an async `fn` (a whole training run) that holds until its promise settles, for everything
 * running meanwhile: run nothing else concurrently.
 */
export function withComposedOps<T>(fn: () => T): T {
  composedOnly += 1;
  let result: T;
  try {
    result = fn();
  } catch (error) {
    composedOnly -= 1;
    throw error;
  }
  if (result instanceof Promise) {
    return result.finally(() => {
      composedOnly -= 1;
    }) as T;
  }
  composedOnly -= 1;
  return result;
}

function makeOps(backend: NodeBackend): NativeOps {
  const b = backend.binding;
  const dtypes: Partial<Record<tf.DataType, number>> = {
    float32: b.TF_FLOAT,
    int32: b.TF_INT32,
    bool: b.TF_BOOL,
  };
  const attrList = (attrs: Attrs) =>
    Object.entries(attrs).map(([name, v]) => {
      if (typeof v === 'boolean') return {name, type: b.TF_ATTR_BOOL, value: v};
      if (typeof v === 'string') return {name, type: b.TF_ATTR_STRING, value: v};
      if ('type' in v) {
        const value = dtypes[v.type];
        if (value === undefined) throw new Error(`native op attr ${name}: no TensorFlow type for ${v.type}`);
        return {name, type: b.TF_ATTR_TYPE, value};
      }
      if ('shape' in v) return {name, type: b.TF_ATTR_SHAPE, value: v.shape};
      if ('int' in v) return {name, type: b.TF_ATTR_INT, value: v.int};
      return {name, type: b.TF_ATTR_FLOAT, value: v.float};
    });
  const run = (op: string, attrs: Attrs, inputs: readonly tf.Tensor[], n: number) =>
    backend.executeMultipleOutputs(op, attrList(attrs), inputs, n);
  return {run, one: (op, attrs, inputs) => run(op, attrs, inputs, 1)[0]!};
}
