import * as tf from '@tensorflow/tfjs';
import {
  type AttrValue,
  decodeOpInputs,
  encodeGraphDef,
  type GraphNode,
  type OpInputArg,
} from './graph-def.js';

/**
 * A step captured by running it: every TensorFlow op tfjs-node executes while `fn` runs is recorded
 * (name, attributes, input and output tensor ids) by wrapping the binding, and the record becomes a
 * GraphDef that the binding registers as one TensorFlow function (scripts/native/graph_function.cc).
 * Replaying it is then a single op: TensorFlow's function runtime runs the graph after Grappler's
 * rewrites, with no per-op dispatch from JS.
 *
 * What the graph sees: ids produced by recorded ops are edges; values tfjs writes from JS during the
 * step (tf.scalar(2), a range) are Consts; the declared `inputs` are arguments, fed anew on each
 * replay; any other id is a capture, passed as the same tensor on each replay (resource handles,
 * constants kept across steps). So a value that changes from step to step must be a declared input:
 * `compareRecords` of two recorded steps finds one that is not (a Const or capture that differs).
 * A read-back inside the step (dataSync, a routing decision taken in JS) cannot be replayed at all.
 */

/** tfjs-node's op attribute record, as its kernels and src/backend/native-ops.ts pass it. */
interface OpAttr {
  name: string;
  type: number;
  value: unknown;
}

interface TensorMeta {
  id: number;
  shape: number[];
  dtype: number;
}

interface Binding {
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

interface NodeBackend {
  binding: Binding;
  tensorMap: {get(dataId: object): {id: number; dtype: number; shape: number[]} | undefined};
  getInputTensorIds(tensors: readonly tf.Tensor[]): number[];
  createOutputTensor(meta: TensorMeta): tf.Tensor;
}

interface OpRecord {
  op: string;
  attrs: OpAttr[];
  inputs: number[];
  outputs: TensorMeta[];
}

interface ConstRecord {
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
function nodeBackend(): NodeBackend | undefined {
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
  try {
    outputs = fn();
    for (const r of record.ops)
      for (const m of r.outputs) record.seen.set(m.id, {dtype: m.dtype, shape: m.shape});
  } finally {
    backend.binding = binding;
    backend.getInputTensorIds = getInputTensorIds;
  }
  record.outputIds = outputs.map((t) => backend.tensorMap.get(t.dataId)?.id ?? -1);
  return {record, outputs};
}

/** Where an op input comes from, in a form two records of the same step share. */
type Source =
  | {kind: 'op'; op: number; index: number}
  | {kind: 'const'; id: number}
  | {kind: 'input'; index: number}
  | {kind: 'capture'; id: number};

function sources(record: StepRecord): {
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
          return `${where} input ${i} is a value written from JS that changes between steps — pass it as an input`;
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

/** A step registered as a TensorFlow function; `call` runs it once. */
export class GraphStep {
  private constructor(
    private readonly backend: NodeBackend,
    readonly name: string,
    /** Tensors passed as the same argument on every call, after the declared inputs. */
    private readonly captures: readonly number[],
    private readonly numOutputs: number,
    /** Ops in the graph, for reports. */
    readonly numOps: number,
  ) {}

  /**
   * The function of `record`, registered in tfjs-node's context. Throws when the record cannot be
   * replayed (its violation, an output not made by an op, a tensor the step kept and did not return).
   */
  static fromRecord(record: StepRecord): GraphStep {
    const backend = nodeBackend();
    if (!backend) throw new Error('step capture needs the tfjs-node backend with registerGraphFunction');
    if (record.violation) throw new Error(record.violation);
    const b = backend.binding;
    const {producer, of} = sources(record);
    const nodes: GraphNode[] = [];
    const names = new Map<string, string>(); // a source's key → tensor name in the graph
    const captures: number[] = [];
    const inputNames = record.inputIds.map((id, i) => {
      const meta = record.seen.get(id);
      if (!meta) return undefined; // an input the step never used: no placeholder
      const name = `in${i}`;
      nodes.push(placeholder(name, meta, b));
      return `${name}:0`;
    });
    const tensorName = (id: number): string => {
      const s = of(id);
      if (s.kind === 'op') return `n${s.op}:${s.index}`;
      if (s.kind === 'input') return inputNames[s.index]!;
      const key = `${s.kind}:${s.id}`;
      let name = names.get(key);
      if (name) return name;
      if (s.kind === 'const') {
        const c = record.consts.get(s.id)!;
        const node = `c${s.id}`;
        nodes.push({
          name: node,
          op: 'Const',
          inputs: [],
          attrs: {dtype: {type: c.dtype}, value: {tensor: tensorValue(c)}},
        });
        name = `${node}:0`;
      } else {
        if (record.deleted.has(s.id)) {
          throw new Error(
            `the step uses tensor ${s.id}, made before it and deleted during it — pass it as an input`,
          );
        }
        const meta = record.seen.get(s.id)!;
        const node = `cap${captures.length}`;
        captures.push(s.id);
        nodes.push(placeholder(node, meta, b));
        name = `${node}:0`;
      }
      names.set(key, name);
      return name;
    };
    // tf.function's automatic control dependencies: ops on one resource keep their program order.
    const isResource = (id: number) => (record.seen.get(id)?.dtype ?? -1) === b.TF_RESOURCE;
    const lastWriter = new Map<string, number>();
    const readersSince = new Map<string, number[]>();
    const controlOutputs: string[] = [];
    for (const [k, r] of record.ops.entries()) {
      const inputs = r.inputs.map(tensorName);
      const control = new Set<number>();
      let writes = false;
      for (const id of r.inputs.filter(isResource)) {
        const key = tensorName(id);
        const writer = lastWriter.get(key);
        if (writer !== undefined) control.add(writer);
        if (r.op === 'ReadVariableOp') {
          readersSince.set(key, [...(readersSince.get(key) ?? []), k]);
        } else {
          writes = true;
          for (const reader of readersSince.get(key) ?? []) control.add(reader);
          readersSince.set(key, []);
          lastWriter.set(key, k);
        }
      }
      control.delete(k);
      const attrs = attrValues(r.attrs, b);
      inferTypeAttrs(
        opInputs(b, r.op),
        attrs,
        r.inputs.map((id) => record.seen.get(id)?.dtype),
      );
      nodes.push({name: `n${k}`, op: r.op, inputs: [...inputs, ...[...control].map((c) => `^n${c}`)], attrs});
      if (writes || r.outputs.length === 0) controlOutputs.push(`n${k}`);
    }
    const outputs = record.outputIds.map((id) => {
      if (!producer.has(id)) throw new Error('a step output is not made by an op of the step');
      return tensorName(id);
    });
    const returned = new Set(record.outputIds);
    const kept = [...producer.keys()].filter((id) => !record.deleted.has(id) && !returned.has(id));
    if (kept.length > 0) {
      throw new Error(
        `the step keeps ${kept.length} tensor(s) it does not return (a cache made during the step?)`,
      );
    }
    const name = `dsk_step_${++functions}_${Date.now().toString(36)}`;
    const argNames = [
      ...inputNames.filter((n): n is string => n !== undefined),
      ...captures.map((_, i) => `cap${i}:0`),
    ];
    b.registerGraphFunction!(name, encodeGraphDef(nodes), argNames, outputs, controlOutputs);
    const usedInputs = inputNames.map((n) => n !== undefined);
    const step = new GraphStep(backend, name, captures, outputs.length, record.ops.length);
    step.usedInputs = usedInputs;
    return step;
  }

  private usedInputs: boolean[] = [];

  /** Removes the function from TensorFlow's context; `call` fails afterwards. */
  dispose(): void {
    this.backend.binding.removeGraphFunction!(this.name);
  }

  /**
   * Runs the step on `inputs` (the same kinds, shapes and order as recorded); returns its outputs.
   * Throws a StaleCaptureError, having run nothing, when a tensor the step captured is gone.
   */
  call(inputs: readonly tf.Tensor[]): tf.Tensor[] {
    const ids = this.backend.getInputTensorIds(inputs.filter((_, i) => this.usedInputs[i]));
    let meta: TensorMeta[];
    try {
      meta = this.backend.binding.executeOp(this.name, [], [...ids, ...this.captures], this.numOutputs);
    } catch (error) {
      // The binding looks every input id up before it runs anything.
      if (/Tensor ID not referenced/.test((error as Error).message)) throw new StaleCaptureError();
      throw error;
    }
    return meta.map((m) => this.backend.createOutputTensor(m));
  }
}

let functions = 0;

/** A captured tensor (a frozen weight, a kept constant) was disposed or reassigned since the capture. */
export class StaleCaptureError extends Error {
  constructor() {
    super('a tensor the captured step reads was disposed or reassigned outside the step');
    this.name = 'StaleCaptureError';
  }
}

const opInputCache = new Map<string, OpInputArg[]>();

function opInputs(b: Binding, op: string): OpInputArg[] {
  let args = opInputCache.get(op);
  if (!args) {
    args = decodeOpInputs(b.opDef!(op));
    opInputCache.set(op, args);
  }
  return args;
}

/**
 * Sets the type attributes eager execution infers from the inputs (`T` of ExpandDims) and a NodeDef
 * must state: for each single-tensor input arg whose type attr is unset, the dtype of its input.
 * Walks the args as the inputs were passed, flat; stops at a list whose length it cannot tell.
 */
function inferTypeAttrs(
  args: readonly OpInputArg[],
  attrs: Record<string, AttrValue>,
  dtypes: (number | undefined)[],
): void {
  let pos = 0;
  for (const arg of args) {
    let length = 1;
    if (arg.numberAttr) {
      const n = attrs[arg.numberAttr];
      if (!n || !('i' in n) || Array.isArray(n.i)) return;
      length = n.i;
    } else if (arg.typeListAttr) {
      const list = attrs[arg.typeListAttr];
      if (!list) return;
      length = 'i' in list && Array.isArray(list.i) ? list.i.length : 1;
    }
    const dtype = dtypes[pos];
    if (arg.typeAttr && !attrs[arg.typeAttr] && dtype !== undefined) attrs[arg.typeAttr] = {type: dtype};
    pos += length;
  }
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

function placeholder(name: string, meta: {dtype: number; shape: number[]}, b: Binding): GraphNode {
  // A resource handle's shape is that of the handle (a scalar), not of the variable.
  const shape = meta.dtype === b.TF_RESOURCE ? [] : meta.shape;
  return {name, op: 'Placeholder', inputs: [], attrs: {dtype: {type: meta.dtype}, shape: {shape}}};
}

function attrValues(attrs: readonly OpAttr[], b: Binding): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const {name, type, value} of attrs) {
    if (type === b.TF_ATTR_STRING) out[name] = {s: String(value)};
    else if (type === b.TF_ATTR_INT) out[name] = {i: value as number | number[]};
    else if (type === b.TF_ATTR_FLOAT) out[name] = {f: value as number | number[]};
    else if (type === b.TF_ATTR_BOOL) out[name] = {b: value as boolean | boolean[]};
    else if (type === b.TF_ATTR_TYPE) out[name] = {type: value as number};
    else if (type === b.TF_ATTR_SHAPE) out[name] = {shape: value as number[]};
    else throw new Error(`attribute ${name}: type ${type} cannot be recorded`);
  }
  return out;
}

function tensorValue(c: ConstRecord) {
  const v = c.values;
  if (ArrayBuffer.isView(v)) {
    return {dtype: c.dtype, shape: c.shape, content: new Uint8Array(v.buffer, v.byteOffset, v.byteLength)};
  }
  if (Array.isArray(v) && v.every((s) => s instanceof Uint8Array)) {
    return {dtype: c.dtype, shape: c.shape, strings: v as Uint8Array[]};
  }
  throw new Error(`a value written from JS during the step has no TensorFlow layout (dtype ${c.dtype})`);
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
