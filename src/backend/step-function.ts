import type * as tf from '@tensorflow/tfjs';
import {
  type AttrValue,
  decodeOpInputs,
  encodeGraphDef,
  type GraphNode,
  type OpInputArg,
} from './graph-def.js';
import {
  type Binding,
  type ConstRecord,
  type NodeBackend,
  nodeBackend,
  type OpAttr,
  type StepRecord,
  sources,
  type TensorMeta,
} from './step-record.js';

/** A step registered as a TensorFlow function; `call` runs it once. */
export class StepFunction {
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
  static fromRecord(record: StepRecord): StepFunction {
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
      // A parameter no gradient reached comes out as it went in.
      if (!producer.has(id) && of(id).kind !== 'input') {
        throw new Error('a step output is neither made by an op of the step nor one of its inputs');
      }
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
    const step = new StepFunction(backend, name, captures, outputs.length, record.ops.length);
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
