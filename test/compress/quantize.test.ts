import {describe, expect, it} from 'vitest';
import {
  dequantizeAffine,
  dequantizeSymmetric,
  fromFloat16,
  fromFloat16Bits,
  packInt4,
  quantizeAffine,
  quantizeSymmetric,
  toFloat16,
  toFloat16Bits,
  unpackInt4,
} from '../../src/compress/quantize.js';

function randn(n: number, seed = 1): Float32Array {
  let s = seed;
  const rand = () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(rand())) * Math.cos(2 * Math.PI * rand());
  return out;
}

const maxErr = (a: Float32Array, b: Float32Array) =>
  a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe('symmetric quantization', () => {
  it('int8 per channel: error at most half a step of each output channel', () => {
    const shape = [16, 8];
    const w = randn(128);
    for (let i = 0; i < 16; i++) w[i * 8 + 3]! *= 50; // one loud channel
    const q = quantizeSymmetric(w, shape, {dtype: 'int8', axis: 0});
    expect(q.scales.length).toBe(8);
    const back = dequantizeSymmetric(q);
    for (let c = 0; c < 8; c++) {
      for (let r = 0; r < 16; r++) {
        expect(Math.abs(back[r * 8 + c]! - w[r * 8 + c]!)).toBeLessThanOrEqual(q.scales[c]! / 2 + 1e-7);
      }
    }
    // Per tensor, the loud channel sets the step of every channel: far more error on the quiet ones.
    const t = quantizeSymmetric(w, shape, {dtype: 'int8', axis: -1});
    expect(t.scales.length).toBe(1);
    const quiet = (x: Float32Array) =>
      maxErr(
        w.filter((_, i) => i % 8 === 0),
        x.filter((_, i) => i % 8 === 0),
      );
    expect(quiet(dequantizeSymmetric(t))).toBeGreaterThan(10 * quiet(back));
  });

  it('keeps exact values: zeros, and the abs-max of each channel', () => {
    const w = new Float32Array([0, 1, -2, 0, 0.5, 4]);
    const back = dequantizeSymmetric(quantizeSymmetric(w, [3, 2], {dtype: 'int8', axis: 0}));
    expect(back[0]).toBe(0);
    expect(back[3]).toBe(0);
    expect(back[5]).toBeCloseTo(4, 2);
    expect(back[2]).toBeCloseTo(-2, 2);
  });

  it('int4 packs two values a byte and groups shrink the error', () => {
    const w = randn(64 * 4, 7);
    const whole = quantizeSymmetric(w, [64, 4], {dtype: 'int4', axis: 0});
    expect(whole.values.byteLength).toBe(128);
    const grouped = quantizeSymmetric(w, [64, 4], {dtype: 'int4', axis: 0, groupSize: 16});
    expect(grouped.scales.length).toBe(16);
    expect(maxErr(w, dequantizeSymmetric(grouped))).toBeLessThan(maxErr(w, dequantizeSymmetric(whole)));
    expect(maxErr(w, dequantizeSymmetric(whole))).toBeLessThanOrEqual(Math.max(...whole.scales) / 2 + 1e-6);
  });

  it('int4 pack/unpack round trip over the signed range', () => {
    const q = new Int8Array([-7, 7, 0, -1, 3, -8, 5]);
    expect([...unpackInt4(packInt4(q), q.length)]).toEqual([...q]);
  });

  it('per-row scales for a 3-D stack (one scale per expert and output unit)', () => {
    const w = randn(2 * 5 * 3, 3);
    const q = quantizeSymmetric(w, [2, 5, 3], {dtype: 'int8', axis: 1});
    expect(q.scales.length).toBe(6);
    expect(maxErr(w, dequantizeSymmetric(q))).toBeLessThan(0.02);
  });
});

describe('tfjs affine and float16', () => {
  it('uint8 per tensor keeps zero exact and errs at most half a step', () => {
    const w = randn(200, 5);
    w[10] = 0;
    const {values, scale, min} = quantizeAffine(w, 'uint8');
    const back = dequantizeAffine(values, scale, min);
    expect(back[10]).toBeCloseTo(0, 6);
    expect(maxErr(w, back)).toBeLessThanOrEqual(scale / 2 + 1e-6);
  });

  it('float16 bits match known values and round to nearest', () => {
    expect(toFloat16Bits(1)).toBe(0x3c00);
    expect(toFloat16Bits(-2)).toBe(0xc000);
    expect(toFloat16Bits(65504)).toBe(0x7bff);
    expect(toFloat16Bits(1e6)).toBe(0x7c00);
    expect(fromFloat16Bits(0x0001)).toBe(2 ** -24);
    expect(toFloat16Bits(2 ** -24)).toBe(1);
    expect(fromFloat16Bits(toFloat16Bits(0.1))).toBeCloseTo(0.1, 4);
    const w = randn(1000, 9);
    const back = fromFloat16(toFloat16(w));
    const worst = w.reduce((m, v, i) => Math.max(m, Math.abs(back[i]! - v) - Math.abs(v) * 2 ** -11), 0);
    expect(worst).toBeLessThanOrEqual(1e-7);
  });
});
