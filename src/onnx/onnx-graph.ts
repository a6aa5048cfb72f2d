/**
 * ONNX export (issue 21), self-contained: this folder turns a kit LayersModel into ONNX model bytes
 * that ONNX Runtime (Python, C++, C#, mobile, onnxruntime-web) runs. This file is the graph builder:
 * nodes, initializers and graph inputs/outputs, serialized with `onnx-proto` (protobufjs code
 * generated from the official onnx.proto, IR version 8).
 */
import onnxProto from 'onnx-proto';

const {onnx} = onnxProto;

/** The operator set the exporter writes: 17 (ONNX 1.12), which every current runtime reads. */
export const OPSET = 17;
/** IR version 8 goes with opsets 15–18. */
export const IR_VERSION = 8;

/** TensorProto element types the exporter uses. */
export const DType = {float: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9} as const;
export type DTypeCode = (typeof DType)[keyof typeof DType];

/** A dimension: a number, or a symbolic name (`batch`, `sequence`). */
export type Dim = number | string;

type AttrValue = number | number[] | string | {float: number} | {floats: number[]};

/** Attributes of a node; integers are INT/INTS, `{float}`/`{floats}` are FLOAT/FLOATS. */
export type Attrs = Record<string, AttrValue>;

export interface GraphSummary {
  nodes: number;
  initializers: number;
  /** Node count per operator type. */
  ops: Record<string, number>;
}

/**
 * A growing ONNX graph. Every method returns the name of the value it adds, so converters chain
 * them like tensor ops: `g.op('Mul', [x, g.op('Sigmoid', [x])])`.
 */
export class GraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly used = new Set<string>();
  private readonly constants = new Map<string, string>();
  private initializerBytes = 0;

  /** A fresh value name from `base` (`block0/attn/q`, then `block0/attn/q_1`…). */
  name(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Adds a node with one output; returns the output's name. */
  op(opType: string, inputs: string[], attrs: Attrs = {}, name?: string): string {
    return this.opN(opType, inputs, 1, attrs, name)[0]!;
  }

  /** Adds a node with `outputs` outputs (names given, or made from the op type). */
  opN(
    opType: string,
    inputs: string[],
    outputs: number | string[],
    attrs: Attrs = {},
    name?: string,
  ): string[] {
    const base = name ?? opType;
    const outs =
      typeof outputs === 'number'
        ? Array.from({length: outputs}, (_, i) => this.name(outputs === 1 ? base : `${base}:${i}`))
        : outputs.map((o) => this.claim(o));
    this.nodes.push({
      opType,
      input: inputs,
      output: outs,
      name: this.name(`node/${base}`),
      attribute: Object.entries(attrs).map(([key, value]) => attribute(key, value)),
    });
    return outs;
  }

  /** An initializer holding `data` of `shape`; returns its name. */
  initializer(
    base: string,
    data: Float32Array | Int8Array | Uint8Array | Int32Array | BigInt64Array,
    shape: readonly number[],
    dtype: DTypeCode,
  ): string {
    const name = this.name(base);
    const rawData = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    this.initializers.push({name, dims: [...shape], dataType: dtype, rawData});
    this.initializerBytes += rawData.byteLength;
    return name;
  }

  /** A float32 initializer. */
  floats(base: string, data: Float32Array | readonly number[], shape: readonly number[]): string {
    return this.initializer(base, Float32Array.from(data), shape, DType.float);
  }

  /** A shared int64 constant (shapes, axes, indices), made once per value. */
  int64s(values: readonly number[], shape: readonly number[] = [values.length]): string {
    const key = `i64:${shape.join(',')}:${values.join(',')}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.initializer('const_i64', BigInt64Array.from(values, BigInt), shape, DType.int64);
      this.constants.set(key, name);
    }
    return name;
  }

  /** A shared float32 scalar constant. */
  scalar(value: number): string {
    const key = `f32:${value}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.initializer('const_f32', Float32Array.of(value), [], DType.float);
      this.constants.set(key, name);
    }
    return name;
  }

  /** A graph input; its name is taken as given. */
  input(name: string, dtype: DTypeCode, shape: readonly Dim[]): string {
    this.inputs.push(valueInfo(this.claim(name), dtype, shape));
    return name;
  }

  /** Marks `value` as a graph output named `name` (an Identity when the names differ). */
  output(value: string, name: string, dtype: DTypeCode, shape: readonly Dim[]): void {
    const out = value === name ? name : this.opN('Identity', [value], [name])[0]!;
    this.outputs.push(valueInfo(out, dtype, shape));
  }

  /** Bytes of all initializers. */
  get weightBytes(): number {
    return this.initializerBytes;
  }

  summary(): GraphSummary {
    const ops: Record<string, number> = {};
    for (const n of this.nodes) ops[n.opType!] = (ops[n.opType!] ?? 0) + 1;
    return {nodes: this.nodes.length, initializers: this.initializers.length, ops};
  }

  /** The serialized ModelProto. */
  toBytes(options: {
    graphName: string;
    producerVersion: string;
    metadata: Record<string, string>;
  }): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      opsetImport: [{domain: '', version: OPSET}],
      producerName: 'deepseek-kit',
      producerVersion: options.producerVersion,
      graph: {
        name: options.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
      metadataProps: Object.entries(options.metadata).map(([key, value]) => ({key, value})),
    });
    return onnx.ModelProto.encode(model).finish();
  }

  private claim(name: string): string {
    if (this.used.has(name)) throw new Error(`ONNX graph: the name '${name}' is taken`);
    this.used.add(name);
    return name;
  }
}

function attribute(name: string, value: AttrValue): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return {name, type: T.STRING, s: new TextEncoder().encode(value)};
  if (typeof value === 'number') return {name, type: T.INT, i: value};
  if (Array.isArray(value)) return {name, type: T.INTS, ints: value};
  if ('float' in value) return {name, type: T.FLOAT, f: value.float};
  return {name, type: T.FLOATS, floats: value.floats};
}

function valueInfo(name: string, dtype: DTypeCode, shape: readonly Dim[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: dtype,
        shape: {dim: shape.map((d) => (typeof d === 'number' ? {dimValue: d} : {dimParam: d}))},
      },
    },
  };
}
