import {quantizeSymmetric} from '../compress/quantize.js';
import {DEFAULT_SKIP} from '../compress/weight-codec.js';
import {DType, type GraphBuilder} from './onnx-graph.js';

/** Weight encodings of an ONNX export: float32, or int8 with one scale per output channel. */
export const ONNX_QUANTIZE = ['none', 'int8'] as const;
export type OnnxQuantize = (typeof ONNX_QUANTIZE)[number];

/**
 * How an int8 weight enters a product. `dequantize`: DequantizeLinear (int8 → float32 with the
 * scales) then a float MatMul: the same numbers as the kit's own int8 model. `integer`: the input
 * is quantized per call (DynamicQuantizeLinear, uint8 per tensor) and multiplied with MatMulInteger
 * (int32 accumulators), then scaled: faster where the runtime has integer kernels, less exact.
 */
export const INT8_KERNELS = ['dequantize', 'integer'] as const;
export type Int8Kernel = (typeof INT8_KERNELS)[number];

export interface OnnxWeightOptions {
  /** Default 'none'. */
  quantize?: OnnxQuantize;
  /** int8: one scale per output channel (default) or one per tensor. */
  granularity?: 'per-channel' | 'per-tensor';
  /** int8: weights whose kit name matches stay float32. Default: the kit's /norm|router/. */
  skip?: RegExp | null;
  /** int8: DequantizeLinear + MatMul (default) or MatMulInteger. */
  int8Kernel?: Int8Kernel;
}

/** One weight as exported. */
export interface OnnxWeightRow {
  name: string;
  shape: number[];
  /** `float32`, `int8/per-channel`, `int8/per-tensor`. */
  encoding: string;
  bytes: number;
}

/**
 * Writes a model's weights into the graph as float32 initializers or int8 + scales, and emits the
 * products that read them. Matrices are [in, out]; per-channel int8 has one scale per output
 * column (per row for embedding tables), as the kit's own `quantize` does, so with `dequantize`
 * the ONNX weights are exactly the kit's int8 weights.
 */
export class OnnxWeights {
  readonly rows: OnnxWeightRow[] = [];
  readonly int8Kernel: Int8Kernel;
  private readonly quantize: OnnxQuantize;
  private readonly perTensor: boolean;
  private readonly skip: RegExp | null;
  /** Encoded weights by name: a weight read twice (a tied embedding) is stored once. */
  private readonly encoded = new Map<string, Encoded>();
  /** Stacked expert weights quantized per tensor, for their per-expert slices. */
  private readonly stacks = new Map<string, {values: Uint8Array; scales: Float32Array}>();

  constructor(
    private readonly g: GraphBuilder,
    options: OnnxWeightOptions = {},
  ) {
    this.quantize = options.quantize ?? 'none';
    this.perTensor = options.granularity === 'per-tensor';
    this.skip = options.skip === undefined ? DEFAULT_SKIP : options.skip;
    this.int8Kernel = options.int8Kernel ?? 'dequantize';
  }

  /** A float32 tensor kept as is (norm gains, biases, the routing bias, RoPE tables). */
  float(name: string, data: Float32Array, shape: readonly number[]): string {
    this.rows.push({name, shape: [...shape], encoding: 'float32', bytes: data.byteLength});
    return this.g.floats(name, data, shape);
  }

  /**
   * x [..., in] · W [in, out] (+ bias [out]). `part` names the stacked weight this matrix is one
   * expert of, for the report.
   */
  linear(
    x: string,
    name: string,
    kernel: Float32Array,
    shape: [number, number],
    bias?: Float32Array,
    part?: StackPart,
  ): string {
    const w = this.encode(name, kernel, shape, 0, part);
    let y: string;
    if (w.int8 && this.int8Kernel === 'integer') y = this.integerMatMul(x, name, w.int8);
    else y = this.g.op('MatMul', [x, this.value(name, w)], {}, name);
    return bias ? this.g.op('Add', [y, this.float(`${name}_bias`, bias, [shape[1]])]) : y;
  }

  /** A matrix [in, out] as a float32 graph value: the initializer, or its DequantizeLinear. */
  matrix(name: string, data: Float32Array, shape: [number, number], part?: StackPart): string {
    return this.value(name, this.encode(name, data, shape, 0, part));
  }

  /** An embedding table [V, d] as a float32 value (int8: a scale per row). */
  table(name: string, data: Float32Array, shape: [number, number]): string {
    return this.value(name, this.encode(name, data, shape, 1));
  }

  /**
   * Rows of the table [V, d] at `ids` [...] → [..., d]. An int8 table is gathered as int8 and
   * multiplied by the gathered row scales: a lookup never dequantizes the whole table.
   */
  gather(ids: string, name: string, data: Float32Array, shape: [number, number]): string {
    const w = this.encode(name, data, shape, 1);
    if (!w.int8) return this.g.op('Gather', [w.float!, ids], {axis: 0}, name);
    const q = w.int8;
    const rows = this.g.op('Cast', [this.g.op('Gather', [q.values, ids], {axis: 0})], {to: DType.float});
    if (q.axis < 0) return this.g.op('Mul', [rows, q.scales], {}, name);
    const rowScales = this.g.op('Unsqueeze', [q.scales, this.g.int64s([1])]); // [V, 1]
    return this.g.op('Mul', [rows, this.g.op('Gather', [rowScales, ids], {axis: 0})], {}, name);
  }

  /**
   * The up/gate projections of a stack of E experts [E, in, out] as one product x [T, in] →
   * [T, E·out], the experts' matrices side by side [in, E·out]. Per-channel int8 scales are per
   * expert and output column, as the kit quantizes the stack.
   */
  expertsWide(
    x: string,
    name: string,
    data: Float32Array,
    [E, inDim, outDim]: [number, number, number],
  ): string {
    const wide = new Float32Array(data.length); // [in, E, out] ← [E, in, out]
    for (let e = 0; e < E; e++)
      for (let i = 0; i < inDim; i++)
        wide.set(data.subarray((e * inDim + i) * outDim, (e * inDim + i + 1) * outDim), (i * E + e) * outDim);
    const part = {stack: name, shape: [E, inDim, outDim], data};
    return this.g.op('MatMul', [x, this.matrix(name, wide, [inDim, E * outDim], part)]);
  }

  /**
   * The down projections of a stack of E experts [E, in, out] summed over experts: h [T, E, in] →
   * Σ_e h[:, e] · W_e [T, out]. One product over [T, E·in] × [E·in, out], or with per-channel int8
   * (a scale per expert and output column, which no single DequantizeLinear axis holds) one
   * product per expert, summed.
   */
  expertsSummed(
    h: string,
    name: string,
    data: Float32Array,
    [E, inDim, outDim]: [number, number, number],
  ): string {
    const g = this.g;
    const part = {stack: name, shape: [E, inDim, outDim], data};
    if (this.quantize === 'none' || this.perTensor || this.skip?.test(name)) {
      const flat = g.op('Reshape', [h, g.int64s([-1, E * inDim])]);
      return g.op('MatMul', [flat, this.matrix(name, data, [E * inDim, outDim], part)]);
    }
    const pieces = g.opN('Split', [h, g.int64s(Array(E).fill(1))], E, {axis: 1}); // E × [T, 1, in]
    const outs = pieces.map((piece, e) =>
      this.linear(
        piece,
        `${name}/${e}`,
        data.subarray(e * inDim * outDim, (e + 1) * inDim * outDim),
        [inDim, outDim],
        undefined,
        {...part, index: e},
      ),
    ); // E × [T, 1, out]
    return g.op('Reshape', [g.op('Sum', outs), g.int64s([-1, outDim])]);
  }

  /** Bytes of the exported weights (values and scales). */
  get bytes(): number {
    return this.rows.reduce((sum, r) => sum + r.bytes, 0);
  }

  /**
   * The weight as an initializer: float32, or int8 + scales unless it stays float (no int8, the
   * skip pattern). `sharedAxis` is the axis a scale is shared along: 0 for a kernel (one scale per
   * output column), 1 for a table (one per row), as the kit's `quantize` does.
   */
  private encode(
    name: string,
    data: Float32Array,
    shape: [number, number],
    sharedAxis: 0 | 1,
    part?: StackPart,
  ): Encoded {
    const known = this.encoded.get(name);
    if (known) return known;
    let w: Encoded;
    if (this.quantize === 'none' || this.skip?.test(part?.stack ?? name)) {
      w = {float: this.g.floats(name, data, shape)};
      this.addRow(part, {name, shape: [...shape], encoding: 'float32', bytes: data.byteLength});
    } else {
      const axis = this.perTensor ? -1 : sharedAxis;
      const q =
        this.perTensor && part?.index !== undefined
          ? this.stackSlice(part)
          : quantizeSymmetric(data, shape, {dtype: 'int8', axis});
      const ints = new Int8Array(q.values.buffer, q.values.byteOffset, q.values.byteLength);
      const values = this.g.initializer(`${name}_int8`, ints, shape, DType.int8);
      const scales = this.g.floats(`${name}_scale`, q.scales, axis < 0 ? [] : [q.scales.length]);
      const encoding = `int8/${axis < 0 ? 'per-tensor' : 'per-channel'}`;
      this.addRow(part, {name, shape: [...shape], encoding, bytes: ints.byteLength + q.scales.byteLength});
      // DequantizeLinear's axis is the one the scales vary along.
      w = {int8: {values, scales, axis: axis < 0 ? -1 : 1 - axis}};
    }
    this.encoded.set(name, w);
    return w;
  }

  /**
   * Expert `part.index` of a stack quantized per tensor: its values under the one scale of the whole
   * stack [E, in, out], as the kit quantizes it.
   */
  private stackSlice(part: StackPart): {values: Uint8Array; scales: Float32Array} {
    let whole = this.stacks.get(part.stack);
    if (!whole) {
      whole = quantizeSymmetric(part.data, part.shape, {dtype: 'int8', axis: -1});
      this.stacks.set(part.stack, whole);
    }
    const size = part.data.length / part.shape[0]!;
    return {
      values: whole.values.subarray(part.index! * size, (part.index! + 1) * size),
      scales: whole.scales,
    };
  }

  /** A report row; the matrices of one stacked expert weight add up to one row. */
  private addRow(part: StackPart | undefined, row: OnnxWeightRow): void {
    if (!part) {
      this.rows.push(row);
      return;
    }
    const known = this.rows.find((r) => r.name === part.stack);
    if (known) known.bytes += row.bytes;
    else this.rows.push({...row, name: part.stack, shape: [...part.shape]});
  }

  /** The float32 value of an encoded weight (one DequantizeLinear per weight, shared by its readers). */
  private value(name: string, w: Encoded): string {
    if (w.float) return w.float;
    const q = w.int8!;
    q.dequantized ??= this.g.op(
      'DequantizeLinear',
      [q.values, q.scales],
      q.axis < 0 ? {} : {axis: q.axis},
      `${name}_dq`,
    );
    return q.dequantized;
  }

  /**
   * x · W with W int8: x quantized per call to uint8 (scale s_x, zero point z_x), an int32
   * MatMulInteger, then y = acc · s_x · s_W. ONNX Runtime fuses the four nodes into one kernel.
   */
  private integerMatMul(x: string, name: string, q: Int8Weight): string {
    const [xq, xScale, xZero] = this.g.opN('DynamicQuantizeLinear', [x], 3);
    const acc = this.g.op('MatMulInteger', [xq!, q.values, xZero!]);
    const scale = this.g.op('Mul', [xScale!, q.scales]);
    return this.g.op('Mul', [this.g.op('Cast', [acc], {to: DType.float}), scale], {}, name);
  }
}

/** Which stacked weight [E, in, out] a matrix belongs to. */
export interface StackPart {
  stack: string;
  /** [E, in, out] */
  shape: number[];
  /** The whole stack, row-major. */
  data: Float32Array;
  /** Which expert this matrix is; absent for the whole stack laid out as one matrix. */
  index?: number;
}

interface Encoded {
  float?: string;
  int8?: Int8Weight;
}

interface Int8Weight {
  /** Initializer names of the int8 values and the float32 scales ([channels] or a scalar). */
  values: string;
  scales: string;
  /** The axis the scales vary along (DequantizeLinear's `axis`); -1 for one scale. */
  axis: number;
  /** The DequantizeLinear output, once a reader asked for it. */
  dequantized?: string;
}
