import * as tf from '@tensorflow/tfjs';

/**
 * A step captured by running it: every TensorFlow op tfjs-node executes while `fn` runs is recorded
 * (name, attributes, input and output tensor ids) by wrapping the binding, and the record becomes a
 * GraphDef that the binding registers as one TensorFlow function (step-function.ts,
 * scripts/native/graph_function.cc). Replaying it is then a single op: TensorFlow's function runtime
 * runs the graph after its own graph passes, with no per-op dispatch from JS.
 *
 * What the graph sees: ids produced by recorded ops are edges; values tfjs writes from JS during the
 * step (tf.scalar(2), a range) are Consts; the declared `inputs` are arguments, fed anew on each
 * replay; any other id is a capture, passed as the same tensor on each replay (resource handles,
 * constants kept across steps). So a value that changes from step to step must be a declared input:
 * `compareRecords` of two recorded steps finds one that is not (a Const or capture that differs).
 * A read-back inside the step (dataSync, a routing decision taken in JS) cannot be replayed at all.
 */

/** tfjs-node's op attribute record, as its kernels and src/backend/native-ops.ts pass it. */
export interface OpAttr {
  name: string;
  type: number;
  value: unknown;
}

export interface TensorMeta {
  id: number;
  shape: number[];
  dtype: number;
}

export interface Binding {
  executeOp(name: string, attrs: OpAttr[], inputs: number[], numOutputs: number): TensorMeta[];
  createTensor(shape: number[], dtype: number, values: unknown): number;
  deleteTensor(id: number): void;
  tensorDataSync(id: number): unknown;
  opDef?(name: string): Uint8Array;
  removeGraphFunction?(name: string): void;
  registerGraphFunction?(
    name: string,
    graphDef: Uint8Array,
    inputs: string[],
    outputs: string[],
    controlOutputs: string[],
  ): void;
  TF_ATTR_STRING: number;
  TF_ATTR_INT: number;
  TF_ATTR_FLOAT: number;
  TF_ATTR_BOOL: number;
  TF_ATTR_TYPE: number;
  TF_ATTR_SHAPE: number;
  TF_RESOURCE: number;
  TF_STRING: number;
}

export interface NodeBackend {
  binding: Binding;
  tensorMap: {get(dataId: object): {id: number; dtype: number; shape: number[]} | undefined};
  getInputTensorIds(tensors: readonly tf.Tensor[]): number[];
  createOutputTensor(meta: TensorMeta): tf.Tensor;
}

export interface OpRecord {
  op: string;
  attrs: OpAttr[];
  inputs: number[];
  outputs: TensorMeta[];
}

export interface ConstRecord {
  shape: number[];
  dtype: number;
  values: unknown;
}

/** One eagerly run step, as recorded. */
export interface StepRecord {
  ops: OpRecord[];
  /** Tensors written from JS values during the step, by id. */
  consts: Map<number, ConstRecord>;
  /** dtype and shape of every id an op consumed. */
  seen: Map<number, {dtype: number; shape: number[]}>;
  /** Ids deleted during the step. */
  deleted: Set<number>;
  /** Ids of the declared inputs, in order. */
  inputIds: number[];
  /** Ids of the step's outputs, in order. */
  outputIds: number[];
  /** Why the step cannot be replayed, when it cannot. */
  violation?: string;
}

/** The binding of tfjs-node's backend when it can register graph functions, else undefined. */
export function nodeBackend(): NodeBackend | undefined {
  if (tf.getBackend() !== 'tensorflow') return undefined;
  const backend = tf.backend() as unknown as NodeBackend;
  const b = backend.binding;
  const built = [b.registerGraphFunction, b.removeGraphFunction, b.opDef].every(
    (f) => typeof f === 'function',
  );
  return built ? backend : undefined;
}

/** Whether steps can be captured here: tfjs-node, built with registerGraphFunction. */
export const canCaptureSteps = (): boolean => nodeBackend() !== undefined;

let recording = 0;

/**
 * Whether a step is being recorded now: code with a choice between reading a value back and
 * computing it in TensorFlow (MoE routing) takes the second, which a replay can repeat.
 */
export const isRecording = (): boolean => recording > 0;

const held: tf.Tensor[] = [];

/**
 * Keeps `t` past the tidy scopes of the step being recorded until its body returns, then disposes
 * it: a value computed inside a layer for code later in the same step (an MoE layer's load, for
 * the routing metrics), which the step does not keep and so may replay.
 */
export function holdWhileRecording<T extends tf.Tensor>(t: T): T {
  if (recording === 0) throw new Error('holdWhileRecording: no step is being recorded');
  held.push(tf.keep(t));
  return t;
}

/**
 * Runs `fn` eagerly and records the TensorFlow ops it executes. `inputs` are the values the step
 * takes anew each time (a batch, the parameters' current values, a learning rate); `fn` returns
 * the tensors the step produces, which must all come out of its ops.
 */
export function recordStep(
  inputs: readonly tf.Tensor[],
  fn: () => tf.Tensor[],
): {record: StepRecord; outputs: tf.Tensor[]} {
  const backend = nodeBackend();
  if (!backend) throw new Error('step capture needs the tfjs-node backend with registerGraphFunction');
  const binding = backend.binding;
  const record: StepRecord = {
    ops: [],
    consts: new Map(),
    seen: new Map(),
    deleted: new Set(),
    inputIds: backend.getInputTensorIds(inputs),
    outputIds: [],
  };
  // Inputs the step's ops never read (a parameter no gradient reaches) still have a dtype and shape.
  for (const [i, t] of inputs.entries()) {
    const info = backend.tensorMap.get(t.dataId);
    if (info) record.seen.set(record.inputIds[i]!, {dtype: info.dtype, shape: info.shape});
  }
  const violate = (why: string) => {
    record.violation ??= why;
  };
  const getInputTensorIds = backend.getInputTensorIds;
  // The addon's properties are read-only: the backend gets a wrapper that inherits the rest.
  backend.binding = Object.create(binding, {
    executeOp: {
      value: (name: string, attrs: OpAttr[], ids: number[], n: number) => {
        const outputs = binding.executeOp(name, attrs, ids, n);
        record.ops.push({op: name, attrs, inputs: ids, outputs});
        return outputs;
      },
    },
    createTensor: {
      value: (shape: number[], dtype: number, values: unknown) => {
        const id = binding.createTensor(shape, dtype, values);
        record.consts.set(id, {shape, dtype, values: copyValues(values)});
        return id;
      },
    },
    deleteTensor: {
      value: (id: number) => {
        record.deleted.add(id);
        binding.deleteTensor(id);
      },
    },
    tensorDataSync: {
      value: (id: number) => {
        if (!readsToValidate()) {
          const after = record.ops.at(-1)?.op ?? 'the first op';
          violate(`the step reads a tensor back to JS (dataSync/data/array) after ${after}`);
        }
        return binding.tensorDataSync(id);
      },
    },
  });
  backend.getInputTensorIds = (tensors) => {
    const ids = getInputTensorIds.call(backend, tensors);
    for (const [i, t] of tensors.entries()) {
      const info = backend.tensorMap.get(t.dataId);
      if (info) record.seen.set(ids[i]!, {dtype: info.dtype, shape: info.shape});
    }
    return ids;
  };
  let outputs: tf.Tensor[];
  recording += 1;
  try {
    outputs = fn();
    tf.dispose(held.splice(0));
    for (const r of record.ops)
      for (const m of r.outputs) record.seen.set(m.id, {dtype: m.dtype, shape: m.shape});
  } finally {
    tf.dispose(held.splice(0));
    recording -= 1;
    backend.binding = binding;
    backend.getInputTensorIds = getInputTensorIds;
  }
  record.outputIds = outputs.map((t) => backend.tensorMap.get(t.dataId)?.id ?? -1);
  return {record, outputs};
}

/** Where an op input comes from, in a form two records of the same step share. */
export type Source =
  | {kind: 'op'; op: number; index: number}
  | {kind: 'const'; id: number}
  | {kind: 'input'; index: number}
  | {kind: 'capture'; id: number};

export function sources(record: StepRecord): {
  producer: Map<number, {op: number; index: number}>;
  of: (id: number) => Source;
} {
  const producer = new Map<number, {op: number; index: number}>();
  for (const [k, r] of record.ops.entries()) {
    for (const [j, m] of r.outputs.entries()) producer.set(m.id, {op: k, index: j});
  }
  const inputPos = new Map(record.inputIds.map((id, i) => [id, i]));
  const of = (id: number): Source => {
    const p = producer.get(id);
    if (p) return {kind: 'op', ...p};
    if (record.consts.has(id)) return {kind: 'const', id};
    const i = inputPos.get(id);
    if (i !== undefined) return {kind: 'input', index: i};
    return {kind: 'capture', id};
  };
  return {producer, of};
}

/**
 * Why `b` is not the same step as `a` (an op, attribute, constant value or captured tensor that
 * differs), or undefined when they match: then the graph of either replays both.
 */
export function compareRecords(a: StepRecord, b: StepRecord): string | undefined {
  if (a.ops.length !== b.ops.length) return `the step ran ${a.ops.length} ops, then ${b.ops.length}`;
  const sa = sources(a);
  const sb = sources(b);
  for (const [k, ra] of a.ops.entries()) {
    const rb = b.ops[k]!;
    const where = `op ${k} (${ra.op})`;
    if (ra.op !== rb.op || ra.inputs.length !== rb.inputs.length) return `${where} differs: ${rb.op}`;
    if (JSON.stringify(ra.attrs) !== JSON.stringify(rb.attrs)) return `${where} has other attributes`;
    for (const [i, id] of ra.inputs.entries()) {
      const x = sa.of(id);
      const y = sb.of(rb.inputs[i]!);
      if (x.kind !== y.kind) return `${where} input ${i} is a ${x.kind}, then a ${y.kind}`;
      if (x.kind === 'const' && y.kind === 'const') {
        if (!sameValues(a.consts.get(x.id)!.values, b.consts.get(y.id)!.values)) {
          return `${where} input ${i} is a value written from JS that changes between steps (random numbers drawn in JS such as dropout masks, or a JS number; a library step passes such values as inputs)`;
        }
      } else if (x.kind === 'capture' && y.kind === 'capture') {
        if (x.id !== y.id)
          return `${where} input ${i} is a tensor made outside the step that changes between steps`;
      } else if (JSON.stringify(x) !== JSON.stringify(y)) {
        return `${where} input ${i} comes from elsewhere`;
      }
    }
  }
  const outA = a.outputIds.map((id) => JSON.stringify(sa.of(id)));
  const outB = b.outputIds.map((id) => JSON.stringify(sb.of(id)));
  if (outA.join() !== outB.join()) return 'the step returns other tensors';
  return undefined;
}

/**
 * tfjs-node kernels that read an input back only to check it, with TensorFlow's kernel checking the
 * same again: GatherV2 asserts its indices are in range. A replay skips the JS check, not the check.
 */
const VALIDATING_KERNELS = [/tfjs-node[\\/]dist[\\/]kernels[\\/]GatherV2\.js/];

/** Whether the read-back under way comes from a kernel in VALIDATING_KERNELS (capture time only). */
function readsToValidate(): boolean {
  const stack = new Error().stack ?? '';
  return VALIDATING_KERNELS.some((re) => re.test(stack));
}

function copyValues(values: unknown): unknown {
  if (ArrayBuffer.isView(values)) return (values as unknown as {slice(): unknown}).slice();
  if (Array.isArray(values)) return values.map((v) => (v instanceof Uint8Array ? v.slice() : v));
  return values;
}

function sameValues(a: unknown, b: unknown): boolean {
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    return x.length === y.length && x.every((v, i) => v === y[i]);
  }
  return JSON.stringify(a) === JSON.stringify(b);
}
