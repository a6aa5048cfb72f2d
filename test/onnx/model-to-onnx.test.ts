import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {buildClassifier, DEFAULT_CLASSIFIER_CONFIG} from '../../src/models/classifier.js';
import {withSeededRandom} from '../../src/models/seeded-random.js';
import {modelToOnnx} from '../../src/onnx/model-to-onnx.js';
import {idsTensor, kitRows, maxDiff, rowsOf, session} from './ort.js';

beforeAll(async () => {
  await initBackend();
});

const MAX_LEN = 12;
const VOCAB = 50;

/** Token ids [rows, MAX_LEN], later rows padded at the end with 0. */
function sampleIds(rows: number): number[][] {
  return Array.from({length: rows}, (_, r) =>
    Array.from({length: MAX_LEN}, (_, i) =>
      i >= MAX_LEN - (r % 4) * 2 ? 0 : 1 + ((r * 7 + i * 13) % (VOCAB - 1)),
    ),
  );
}

async function compareClassifier(model: tf.LayersModel, options: Parameters<typeof modelToOnnx>[1] = {}) {
  const ids = sampleIds(6);
  const {bytes, report} = modelToOnnx(model, {probabilities: true, ...options});
  const s = await session(bytes);
  const out = await s.run({input_ids: idsTensor(ids)});
  const expected = kitRows(model, tf.tensor2d(ids, undefined, 'int32'));
  return {diff: maxDiff(rowsOf(out.logits!), expected), report, out};
}

const classifier = (overrides: Partial<typeof DEFAULT_CLASSIFIER_CONFIG>, seed = 3) =>
  withSeededRandom(seed, () =>
    buildClassifier(
      {
        ...DEFAULT_CLASSIFIER_CONFIG,
        maxLen: MAX_LEN,
        dModel: 16,
        numHeads: 2,
        ffnHidden: 24,
        dropout: 0,
        ...overrides,
      },
      VOCAB,
      3,
    ),
  );

describe('modelToOnnx: text classifiers in ONNX Runtime', () => {
  it('transformer (dense SwiGLU) equals the kit within 1e-4', async () => {
    const {diff, report} = await compareClassifier(classifier({numLayers: 2, finalNorm: true}));
    expect(diff).toBeLessThan(1e-4);
    expect(report.opset).toBeGreaterThanOrEqual(17);
  });
  it('bag (no blocks) equals the kit within 1e-4', async () => {
    const {diff} = await compareClassifier(classifier({numLayers: 0}));
    expect(diff).toBeLessThan(1e-4);
  });
  it('MoE equals the kit within 1e-4, as a dense and as a sparse graph', async () => {
    const model = classifier({
      numLayers: 1,
      ffn: 'moe',
      moe: {numExperts: 4, topK: 2, expertHidden: 8, numShared: 1},
    });
    for (const moe of ['dense', 'sparse'] as const) {
      const {diff} = await compareClassifier(model, {moe});
      expect(diff, moe).toBeLessThan(1e-4);
    }
  });
});
