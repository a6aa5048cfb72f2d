/**
 * TensorFlow's GraphDef in protobuf wire format, for the few node shapes a recorded training step
 * needs (src/backend/step-record.ts): ops with plain attributes, Placeholders and Consts. Field
 * numbers from tensorflow/core/framework/{graph,node_def,attr_value,tensor,tensor_shape}.proto.
 */

/** An attribute value: one of AttrValue's cases, lists as arrays. Types are TF_DataType numbers. */
export type AttrValue =
  | {s: string}
  | {i: number | number[]}
  | {f: number | number[]}
  | {b: boolean | boolean[]}
  | {type: number}
  | {shape: readonly number[]}
  | {tensor: TensorValue};

/** A dense tensor: its bytes little-endian as TensorFlow lays them out, or strings. */
export interface TensorValue {
  dtype: number;
  shape: readonly number[];
  content?: Uint8Array;
  strings?: readonly Uint8Array[];
}

export interface GraphNode {
  name: string;
  op: string;
  /** Data inputs as "node:index", then control inputs as "^node". */
  inputs: readonly string[];
  attrs: Readonly<Record<string, AttrValue>>;
}

/** The GraphDef holding `nodes`, serialized. */
export function encodeGraphDef(nodes: readonly GraphNode[]): Uint8Array {
  const graph = new Writer();
  for (const node of nodes) graph.message(1, encodeNode(node));
  // VersionDef {producer}: a current producer, so no op is upgraded from an older graph version.
  graph.message(4, new Writer().varint(1, PRODUCER));
  return graph.finish();
}

// A producer version TensorFlow 2.21 accepts (its TF_GRAPH_DEF_VERSION is higher): no op in a
// recorded step is deprecated or upgraded between the two.
const PRODUCER = 1000;

function encodeNode(node: GraphNode): Writer {
  const w = new Writer().string(1, node.name).string(2, node.op);
  for (const input of node.inputs) w.string(3, input);
  for (const [key, value] of Object.entries(node.attrs)) {
    w.message(5, new Writer().string(1, key).message(2, encodeAttr(value)));
  }
  return w;
}

function encodeAttr(value: AttrValue): Writer {
  const w = new Writer();
  if ('s' in value) return w.string(2, value.s);
  if ('type' in value) return w.varint(6, value.type);
  if ('shape' in value) return w.message(7, encodeShape(value.shape));
  if ('tensor' in value) return w.message(8, encodeTensor(value.tensor));
  // Scalars, or a ListValue (field 1) with the same field numbers, packed.
  const [field, items] = 'i' in value ? [3, value.i] : 'f' in value ? [4, value.f] : [5, value.b];
  if (!Array.isArray(items)) {
    if (field === 4) return w.float(4, items as number);
    return w.varint(field, Number(items));
  }
  const packed = new Writer();
  for (const item of items) {
    if (field === 4) packed.rawFloat(item as number);
    else packed.rawVarint(Number(item));
  }
  return w.message(1, new Writer().bytes(field, packed.finish()));
}

function encodeShape(shape: readonly number[]): Writer {
  const w = new Writer();
  // Dim {size}; -1 is an unknown size.
  for (const size of shape) w.message(2, new Writer().varint(1, size));
  return w;
}

function encodeTensor(t: TensorValue): Writer {
  const w = new Writer().varint(1, t.dtype).message(2, encodeShape(t.shape));
  if (t.content) w.bytes(4, t.content);
  for (const s of t.strings ?? []) w.bytes(8, s);
  return w;
}

/** A protobuf message under construction: a list of byte chunks. */
class Writer {
  private chunks: Uint8Array[] = [];
  private scratch: number[] = [];
  private length = 0;

  varint(field: number, value: number): this {
    return this.rawVarint((field << 3) | 0).rawVarint(value);
  }

  float(field: number, value: number): this {
    return this.rawVarint((field << 3) | 5).rawFloat(value);
  }

  bytes(field: number, data: Uint8Array): this {
    this.rawVarint((field << 3) | 2).rawVarint(data.length);
    this.flush();
    this.chunks.push(data);
    this.length += data.length;
    return this;
  }

  string(field: number, text: string): this {
    return this.bytes(field, new TextEncoder().encode(text));
  }

  message(field: number, inner: Writer): this {
    return this.bytes(field, inner.finish());
  }

  /** A varint; negative numbers as 64-bit two's complement (10 bytes), as protobuf's int64. */
  rawVarint(value: number): this {
    if (value >= 0 && value < 2 ** 31) {
      let n = value;
      while (n >= 0x80) {
        this.scratch.push((n & 0x7f) | 0x80);
        n >>>= 7;
      }
      this.scratch.push(n);
      return this;
    }
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.scratch.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.scratch.push(Number(v));
    return this;
  }

  rawFloat(value: number): this {
    const bytes = new Uint8Array(new Float32Array([value]).buffer);
    for (const b of bytes) this.scratch.push(b);
    return this;
  }

  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }

  private flush(): void {
    if (this.scratch.length === 0) return;
    this.chunks.push(Uint8Array.from(this.scratch));
    this.length += this.scratch.length;
    this.scratch = [];
  }
}

/** An op's inputs as its OpDef declares them (tensorflow/core/framework/op_def.proto). */
export interface OpInputArg {
  /** The attr holding this input's dtype (`T`), when it is one. */
  typeAttr?: string;
  /** The attr holding the length of a list of like-typed inputs (`N`). */
  numberAttr?: string;
  /** The attr holding the dtypes of a list of inputs (`Tin`). */
  typeListAttr?: string;
}

/** The input args of a serialized OpDef. */
export function decodeOpInputs(bytes: Uint8Array): OpInputArg[] {
  const args: OpInputArg[] = [];
  for (const f of fields(bytes)) {
    if (f.field !== 2 || !f.bytes) continue; // OpDef.input_arg
    const arg: OpInputArg = {};
    for (const g of fields(f.bytes)) {
      if (!g.bytes) continue;
      const text = new TextDecoder().decode(g.bytes);
      if (g.field === 4) arg.typeAttr = text;
      else if (g.field === 5) arg.numberAttr = text;
      else if (g.field === 6) arg.typeListAttr = text;
    }
    args.push(arg);
  }
  return args;
}

/** The top-level fields of a protobuf message: varints as numbers, length-delimited ones as bytes. */
function* fields(bytes: Uint8Array): Generator<{field: number; value?: number; bytes?: Uint8Array}> {
  let pos = 0;
  const varint = () => {
    let result = 0;
    let scale = 1;
    for (;;) {
      const byte = bytes[pos++]!;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 128;
    }
  };
  while (pos < bytes.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) yield {field, value: varint()};
    else if (wire === 2) {
      const length = varint();
      yield {field, bytes: bytes.subarray(pos, pos + length)};
      pos += length;
    } else if (wire === 5) pos += 4;
    else if (wire === 1) pos += 8;
    else throw new Error(`protobuf wire type ${wire} is not read here`);
  }
}
