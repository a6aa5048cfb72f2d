/**
 * Weight quantization as pure functions over Float32Arrays (no tensors, no I/O), so the browser
 * runtime decodes with the same code that encoded.
 *
 * Symmetric abs-max (`int8`, `int4`): q = round(x / s), s = absmax / qmax, one scale per output
 * channel — every index of the axes other than the reduction (input) axis — or one per tensor.
 * With a group size g, the reduction axis is cut into groups of g values with a scale each
 * (as in GPTQ/AWQ group-wise quantization). Scales are rounded up to float16 when they fit (so the
 * stored scale is the one used, and no value ever clips), else kept float32.
 */

export const SYMMETRIC_DTYPES = ['int8', 'int4'] as const;
export type SymmetricDtype = (typeof SYMMETRIC_DTYPES)[number];
export type Granularity = 'per-channel' | 'per-tensor';

/** A weight quantized symmetrically, with what it takes to decode it. */
export interface SymmetricQuantized {
  dtype: SymmetricDtype;
  shape: number[];
  /** Axis the scales are shared along (the input axis); -1 for one scale for the whole tensor. */
  axis: number;
  /** Values per scale along `axis` (0: the whole axis). */
  groupSize: number;
  scaleDtype: 'float16' | 'float32';
  /** int8: one byte per value; int4: two values per byte, low nibble first (two's complement). */
  values: Uint8Array;
  /** [outer, groups, inner] row-major. */
  scales: Float32Array;
}

const QMAX: Record<SymmetricDtype, number> = {int8: 127, int4: 7};

/** Shape split around `axis`: [outer, axis length, inner]. axis -1 means one flat run. */
export function splitShape(shape: readonly number[], axis: number): [number, number, number] {
  const size = shape.reduce((a, b) => a * b, 1);
  if (axis < 0) return [1, size, 1];
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  return [outer, shape[axis]!, inner];
}

/** Bytes of the encoded values + scales. */
export function symmetricByteLength(
  q: Pick<SymmetricQuantized, 'dtype' | 'values' | 'scales' | 'scaleDtype'>,
): number {
  return q.values.byteLength + q.scales.length * (q.scaleDtype === 'float16' ? 2 : 4);
}

/**
 * Quantizes `data` (of `shape`) with one scale per slice along `axis` (per-channel), or one scale
 * for the whole tensor (`axis` -1).
 */
export function quantizeSymmetric(
  data: Float32Array,
  shape: readonly number[],
  options: {dtype: SymmetricDtype; axis: number; groupSize?: number},
): SymmetricQuantized {
  const {dtype, axis} = options;
  const [outer, len, inner] = splitShape(shape, axis);
  const groupSize = options.groupSize && options.groupSize < len ? options.groupSize : 0;
  const g = groupSize || len;
  const groups = Math.ceil(len / g);
  const qmax = QMAX[dtype];
  const scales = new Float32Array(outer * groups * inner);
  for (let o = 0; o < outer; o++) {
    for (let r = 0; r < len; r++) {
      const row = (o * groups + Math.floor(r / g)) * inner;
      const base = (o * len + r) * inner;
      for (let i = 0; i < inner; i++) {
        const a = Math.abs(data[base + i]!);
        if (a > scales[row + i]!) scales[row + i] = a;
      }
    }
  }
  for (let k = 0; k < scales.length; k++) scales[k] = scales[k]! / qmax;
  const scaleDtype = fitsFloat16(scales) ? 'float16' : 'float32';
  if (scaleDtype === 'float16') for (let k = 0; k < scales.length; k++) scales[k] = float16Ceil(scales[k]!);
  const q = new Int8Array(data.length);
  for (let o = 0; o < outer; o++) {
    for (let r = 0; r < len; r++) {
      const row = (o * groups + Math.floor(r / g)) * inner;
      const base = (o * len + r) * inner;
      for (let i = 0; i < inner; i++) {
        const s = scales[row + i]!;
        const v = s === 0 ? 0 : Math.round(data[base + i]! / s);
        q[base + i] = Math.max(-qmax, Math.min(qmax, v));
      }
    }
  }
  const values = dtype === 'int8' ? new Uint8Array(q.buffer) : packInt4(q);
  return {dtype, shape: [...shape], axis, groupSize, scaleDtype, values, scales};
}

/** The float32 values a symmetric encoding stands for. */
export function dequantizeSymmetric(q: SymmetricQuantized): Float32Array {
  const size = q.shape.reduce((a, b) => a * b, 1);
  const ints =
    q.dtype === 'int8'
      ? new Int8Array(q.values.buffer, q.values.byteOffset, size)
      : unpackInt4(q.values, size);
  const [outer, len, inner] = splitShape(q.shape, q.axis);
  const g = q.groupSize || len;
  const groups = Math.ceil(len / g);
  const out = new Float32Array(size);
  for (let o = 0; o < outer; o++) {
    for (let r = 0; r < len; r++) {
      const row = (o * groups + Math.floor(r / g)) * inner;
      const base = (o * len + r) * inner;
      for (let i = 0; i < inner; i++) out[base + i] = ints[base + i]! * q.scales[row + i]!;
    }
  }
  return out;
}

/** Two signed 4-bit values per byte, low nibble first. */
export function packInt4(q: Int8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(q.length / 2));
  for (let k = 0; k < q.length; k++) out[k >> 1]! |= (q[k]! & 0xf) << ((k & 1) * 4);
  return out;
}

export function unpackInt4(bytes: Uint8Array, size: number): Int8Array {
  const out = new Int8Array(size);
  for (let k = 0; k < size; k++) {
    const nibble = (bytes[k >> 1]! >> ((k & 1) * 4)) & 0xf;
    out[k] = nibble >= 8 ? nibble - 16 : nibble;
  }
  return out;
}

/**
 * tfjs's affine per-tensor format (`quantization: {dtype, scale, min}`, value = q·scale + min), as
 * its converter writes it: range widened to hold 0, min nudged so that 0 is exact.
 */
export function quantizeAffine(
  data: Float32Array,
  dtype: 'uint8' | 'uint16',
): {values: Uint8Array | Uint16Array; scale: number; min: number} {
  const levels = dtype === 'uint8' ? 255 : 65535;
  let lo = 0;
  let hi = 0;
  for (const v of data) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const scale = hi > lo ? (hi - lo) / levels : 1;
  const zero = Math.round(-lo / scale);
  const min = -zero * scale;
  const values = dtype === 'uint8' ? new Uint8Array(data.length) : new Uint16Array(data.length);
  for (let k = 0; k < data.length; k++) {
    values[k] = Math.max(0, Math.min(levels, Math.round((data[k]! - min) / scale)));
  }
  return {values, scale, min};
}

export function dequantizeAffine(values: Uint8Array | Uint16Array, scale: number, min: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let k = 0; k < values.length; k++) out[k] = values[k]! * scale + min;
  return out;
}

// float16 (IEEE 754 binary16) conversion.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The binary16 bits of `value`, rounded to nearest even (overflow → ±Infinity). */
export function toFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rest > mid || (rest === mid && half & 1)) half++;
    return sign | half;
  }
  // A carry out of the mantissa moves into the exponent, as it should (up to Infinity).
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

export function fromFloat16Bits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

export function toFloat16(data: Float32Array): Uint16Array {
  const out = new Uint16Array(data.length);
  for (let k = 0; k < data.length; k++) out[k] = toFloat16Bits(data[k]!);
  return out;
}

export function fromFloat16(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let k = 0; k < bits.length; k++) out[k] = fromFloat16Bits(bits[k]!);
  return out;
}

const F16_MIN_NORMAL = 2 ** -14;
const F16_MAX = 65504;

function fitsFloat16(scales: Float32Array): boolean {
  return scales.every((s) => s === 0 || (s >= F16_MIN_NORMAL && s <= F16_MAX / 1.001));
}

/** The smallest float16 value ≥ `s` (positive normal `s`). */
function float16Ceil(s: number): number {
  if (s === 0) return 0;
  let h = toFloat16Bits(s);
  if (fromFloat16Bits(h) < s) h++;
  return fromFloat16Bits(h);
}
