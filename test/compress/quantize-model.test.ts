import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {quantizeModel, readModelWeights} from '../../src/compress/quantize-model.js';
import {encodeWeights, reductionAxis} from '../../src/compress/weight-codec.js';
import {kitClassifier, maxDiff, predictRows, sampleIds} from './kit-model.js';

beforeAll(async () => {
  await initBackend();
});

describe('quantizeModel', () => {
  it('reports sizes and errors that add up, keeps norms and routers float32, leaks nothing', async () => {
    const model = kitClassifier('moe');
    const before = tf.memory().numTensors;
    const {model: q, report} = await quantizeModel(model, {dtype: 'int8'});
    const names = report.rows.map((r) => r.name);
    expect(names).toContain('block0/ffn/experts/gate');
    expect(report.size_bytes_before).toBe(report.rows.reduce((n, r) => n + r.bytes_before, 0));
    expect(report.size_bytes_after).toBe(report.rows.reduce((n, r) => n + r.bytes_after, 0));
    expect(report.max_abs_error).toBe(Math.max(...report.rows.map((r) => r.max_abs_error)));
    for (const r of report.rows) {
      if (/norm|router/.test(r.name)) expect(r.kept).toBe('skip pattern');
      else if (r.shape.length >= 2) expect(r.encoding).toBe('int8/per-channel');
    }
    // The returned model runs on exactly the dequantized weights, close to the original.
    const ids = sampleIds(4);
    expect(maxDiff(predictRows(q, ids), predictRows(model, ids))).toBeLessThan(0.1);
    q.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('per-channel beats per-tensor on weight error; a custom skip pattern keeps what it names', async () => {
    const model = kitClassifier('dense');
    const {weights} = await readModelWeights(model);
    const channel = encodeWeights(weights, {dtype: 'int8'}).rows;
    const tensor = encodeWeights(weights, {dtype: 'int8', granularity: 'per-tensor'}).rows;
    const sum = (rows: typeof channel) => rows.reduce((n, r) => n + r.mean_abs_error, 0);
    expect(sum(channel)).toBeLessThan(sum(tensor));
    const skipAttn = encodeWeights(weights, {dtype: 'int4', skip: /attn\//}).rows;
    expect(skipAttn.filter((r) => r.kept === 'skip pattern').map((r) => r.name)).toEqual([
      'block0/attn/q/kernel',
      'block0/attn/k/kernel',
      'block0/attn/v/kernel',
      'block0/attn/o/kernel',
    ]);
    model.dispose();
  });

  it('scales embeddings per row (token) and kernels per output unit', () => {
    expect(reductionAxis('embed/embeddings', [40, 16])).toBe(1);
    expect(reductionAxis('block0/attn/q/kernel', [16, 16])).toBe(0);
    expect(reductionAxis('block0/ffn/experts/gate', [4, 16, 12])).toBe(1);
  });
});
