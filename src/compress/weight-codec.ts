import type * as tf from '@tensorflow/tfjs';
import {
  dequantizeAffine,
  dequantizeSymmetric,
  fromFloat16,
  type Granularity,
  quantizeAffine,
  quantizeSymmetric,
  type SymmetricDtype,
  type SymmetricQuantized,
  symmetricByteLength,
  toFloat16,
} from './quantize.js';

/**
 * Weight encodings of an export. `float16`, `uint16`, `uint8` are tfjs's own manifest formats (stock
 * `tf.loadLayersModel` reads them); `int8`/`int4` are symmetric per-channel (or per-tensor) and
 * need `decodeWeightData` (the kit's loaders and `deepseek-kit/runtime` apply it).
 */
export const EXPORT_DTYPES = ['none', 'float16', 'uint16', 'uint8', 'int8', 'int4'] as const;
export type ExportDtype = (typeof EXPORT_DTYPES)[number];

/** Marks a manifest entry in the kit's symmetric encoding; stock tfjs refuses its unknown dtype. */
export const KIT_SCHEME = 'deepseek-kit/symmetric-v1';

/**
 * Weights kept float32 by default for integer encodings: norm scales and MoE routers are tiny and
 * sensitive (a router error changes which experts run). Embeddings are quantized per row.
 */
export const DEFAULT_SKIP = /norm|router/;

export interface EncodeOptions {
  dtype: ExportDtype;
  /** Symmetric dtypes: one scale per output channel (default) or per tensor. */
  granularity?: Granularity;
  /** Weights whose name matches stay float32. Default DEFAULT_SKIP for integer dtypes, none for float16. */
  skip?: RegExp | null;
  /** Symmetric dtypes: values per scale along the input axis (0: the whole axis). */
  groupSize?: number;
}

export interface WeightRow {
  name: string;
  shape: number[];
  /** `int8/per-channel`, `uint8/per-tensor`, `float16`, `float32`. */
  encoding: string;
  /** Why a weight stayed float32 (`skip pattern`, `vector`, `int32`). */
  kept?: string;
  bytes_before: number;
  bytes_after: number;
  max_abs_error: number;
  mean_abs_error: number;
}

export interface NamedWeight {
  name: string;
  shape: number[];
  dtype: string;
  data: Float32Array | Int32Array;
}

interface SymmetricSpecFields {
  dtype: SymmetricDtype;
  scheme: typeof KIT_SCHEME;
  axis: number;
  groupSize: number;
  scaleDtype: 'float16' | 'float32';
  valueBytes: number;
  scaleCount: number;
}

type Spec = tf.io.WeightsManifestEntry;

/** The axis a weight's scales are shared along: an embedding's row (per token), else the input axis. */
export function reductionAxis(name: string, shape: readonly number[]): number {
  return /(embeddings|table)$/.test(name) ? shape.length - 1 : shape.length - 2;
}

/** The skip pattern in effect: the given one, else DEFAULT_SKIP for integer dtypes and none for float16. */
export function resolveSkip(options: EncodeOptions): RegExp | null {
  if (options.skip !== undefined) return options.skip;
  return options.dtype === 'float16' || options.dtype === 'none' ? null : DEFAULT_SKIP;
}

/** Encodes each weight; returns the manifest entries, the concatenated bytes, and a row per weight. */
export function encodeWeights(
  weights: readonly NamedWeight[],
  options: EncodeOptions,
): {specs: Spec[]; data: Uint8Array; rows: WeightRow[]} {
  const skip = resolveSkip(options);
  const specs: Spec[] = [];
  const parts: Uint8Array[] = [];
  const rows: WeightRow[] = [];
  for (const w of weights) {
    const before = w.data.byteLength;
    const keep = (kept: string) => {
      specs.push({name: w.name, shape: w.shape, dtype: w.dtype as Spec['dtype']});
      parts.push(bytesOf(w.data));
      rows.push({
        ...rowBase(w),
        encoding: w.dtype,
        kept,
        bytes_after: before,
        max_abs_error: 0,
        mean_abs_error: 0,
      });
    };
    if (w.dtype !== 'float32' || !(w.data instanceof Float32Array)) {
      keep(w.dtype);
      continue;
    }
    const data = w.data;
    if (options.dtype === 'none') {
      keep('');
      continue;
    }
    if (skip?.test(w.name)) {
      keep('skip pattern');
      continue;
    }
    if (options.dtype === 'float16') {
      const bits = toFloat16(data);
      specs.push({name: w.name, shape: w.shape, dtype: 'float32', quantization: {dtype: 'float16'}});
      parts.push(bytesOf(bits));
      rows.push({
        ...rowBase(w),
        encoding: 'float16',
        bytes_after: bits.byteLength,
        ...errors(data, fromFloat16(bits)),
      });
      continue;
    }
    if (w.shape.length < 2) {
      keep('vector');
      continue;
    }
    if (options.dtype === 'uint8' || options.dtype === 'uint16') {
      const {values, scale, min} = quantizeAffine(data, options.dtype);
      specs.push({
        name: w.name,
        shape: w.shape,
        dtype: 'float32',
        quantization: {dtype: options.dtype, scale, min},
      });
      parts.push(bytesOf(values));
      rows.push({
        ...rowBase(w),
        encoding: `${options.dtype}/per-tensor`,
        bytes_after: values.byteLength,
        ...errors(data, dequantizeAffine(values, scale, min)),
      });
      continue;
    }
    const granularity = options.granularity ?? 'per-channel';
    const q = quantizeSymmetric(data, w.shape, {
      dtype: options.dtype,
      axis: granularity === 'per-tensor' ? -1 : reductionAxis(w.name, w.shape),
      groupSize: options.groupSize,
    });
    const fields: SymmetricSpecFields = {
      dtype: q.dtype,
      scheme: KIT_SCHEME,
      axis: q.axis,
      groupSize: q.groupSize,
      scaleDtype: q.scaleDtype,
      valueBytes: q.values.byteLength,
      scaleCount: q.scales.length,
    };
    specs.push({
      name: w.name,
      shape: w.shape,
      dtype: 'float32',
      quantization: fields as unknown as Spec['quantization'],
    });
    parts.push(q.values, bytesOf(q.scaleDtype === 'float16' ? toFloat16(q.scales) : q.scales));
    rows.push({
      ...rowBase(w),
      encoding: `${q.dtype}/${granularity}${q.groupSize ? `/g${q.groupSize}` : ''}`,
      bytes_after: symmetricByteLength(q),
      ...errors(data, dequantizeSymmetric(q)),
    });
  }
  return {specs, data: concat(parts), rows};
}

/** True when some entry needs `decodeWeightData` before tfjs can read it. */
export function needsDecoding(specs: readonly Spec[]): boolean {
  return specs.some((s) => symmetricFields(s) !== undefined);
}

/**
 * Bytes an entry takes in the weight data, for any encoding this module writes or tfjs reads;
 * `undefined` for an unknown quantization dtype.
 */
export function specByteLength(spec: Spec): number | undefined {
  const sym = symmetricFields(spec);
  if (sym) return sym.valueBytes + sym.scaleCount * (sym.scaleDtype === 'float16' ? 2 : 4);
  const size = spec.shape.reduce((a, b) => a * b, 1);
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  const bytes: Record<string, number> = {float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2};
  return bytes[dtype] === undefined ? undefined : size * bytes[dtype]!;
}

/**
 * Turns the kit's symmetric entries into plain float32 ones (values dequantized); every other entry
 * passes through byte for byte for tfjs to decode. Throws on data shorter than the manifest says.
 */
export function decodeWeightData(
  specs: readonly Spec[],
  data: ArrayBuffer,
): {specs: Spec[]; data: ArrayBuffer} {
  const outSpecs: Spec[] = [];
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const spec of specs) {
    const length = specByteLength(spec);
    if (length === undefined) {
      throw new Error(`weight ${spec.name}: unknown encoding ${spec.quantization?.dtype ?? spec.dtype}`);
    }
    if (offset + length > data.byteLength) {
      throw new Error(
        `weight ${spec.name} needs bytes ${offset}..${offset + length} but the weight data holds ${data.byteLength}`,
      );
    }
    const bytes = new Uint8Array(data, offset, length);
    offset += length;
    const sym = symmetricFields(spec);
    if (!sym) {
      outSpecs.push(spec);
      parts.push(bytes);
      continue;
    }
    const scaleBytes = bytes.slice(sym.valueBytes);
    const scales =
      sym.scaleDtype === 'float16'
        ? fromFloat16(new Uint16Array(scaleBytes.buffer))
        : new Float32Array(scaleBytes.buffer);
    const q: SymmetricQuantized = {
      dtype: sym.dtype,
      shape: spec.shape,
      axis: sym.axis,
      groupSize: sym.groupSize,
      scaleDtype: sym.scaleDtype,
      values: bytes.slice(0, sym.valueBytes),
      scales,
    };
    outSpecs.push({name: spec.name, shape: spec.shape, dtype: 'float32'});
    parts.push(bytesOf(dequantizeSymmetric(q)));
  }
  const out = concat(parts);
  return {specs: outSpecs, data: out.buffer as ArrayBuffer};
}

function symmetricFields(spec: Spec): SymmetricSpecFields | undefined {
  const q = spec.quantization as unknown as Partial<SymmetricSpecFields> | undefined;
  if (!q || q.scheme !== KIT_SCHEME) return undefined;
  if (
    (q.dtype !== 'int8' && q.dtype !== 'int4') ||
    typeof q.valueBytes !== 'number' ||
    typeof q.scaleCount !== 'number'
  ) {
    throw new Error(`weight ${spec.name}: malformed ${KIT_SCHEME} entry`);
  }
  return q as SymmetricSpecFields;
}

function rowBase(w: NamedWeight) {
  return {name: w.name, shape: w.shape, bytes_before: w.data.byteLength};
}

function errors(a: Float32Array, b: Float32Array): {max_abs_error: number; mean_abs_error: number} {
  let max = 0;
  let sum = 0;
  for (let k = 0; k < a.length; k++) {
    const e = Math.abs(a[k]! - b[k]!);
    sum += e;
    if (e > max) max = e;
  }
  return {max_abs_error: max, mean_abs_error: a.length ? sum / a.length : 0};
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}
