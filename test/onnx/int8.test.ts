import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {quantizeModel} from '../../src/compress/quantize-model.js';
import {
  buildCausalLM,
  type CausalLMConfig,
  DEFAULT_CAUSAL_LM_CONFIG,
} from '../../src/models/causal-lm/causal-lm.js';
import {buildClassifier, DEFAULT_CLASSIFIER_CONFIG} from '../../src/models/text-classifier/classifier.js';
import {modelToOnnx} from '../../src/onnx/model-to-onnx.js';
import {withSeededRandom} from '../../src/train/seeded-random.js';
import {accuracyPercent, type ImdbBow, trainImdbBow} from '../compress/imdb-bow.js';
import {emptyPast, FLOAT_ACCUMULATION, idsTensor, kitRows, maxDiff, rowsOf, session} from './ort.js';

beforeAll(async () => {
  await initBackend();
});

const ids = Array.from({length: 4}, (_, r) =>
  Array.from({length: 10}, (_, i) => 1 + ((r * 7 + i * 13) % 49)),
);

async function onnxRows(bytes: Uint8Array, past: boolean): Promise<number[][]> {
  const s = await session(bytes, FLOAT_ACCUMULATION);
  const out = await s.run({input_ids: idsTensor(ids), ...(past ? emptyPast(s, ids.length) : {})});
  return rowsOf(out.logits!);
}

const lm = (overrides: Partial<CausalLMConfig>) =>
  buildCausalLM(
    {...DEFAULT_CAUSAL_LM_CONFIG, contextLength: 16, dModel: 32, numLayers: 2, numHeads: 4, ...overrides},
    50,
  );

describe('--quantize int8 (DequantizeLinear, per-channel scales)', () => {
  const models: [string, () => tf.LayersModel, boolean][] = [
    [
      'MoE text classifier',
      () =>
        buildClassifier(
          {
            ...DEFAULT_CLASSIFIER_CONFIG,
            maxLen: 10,
            dModel: 16,
            numHeads: 2,
            ffn: 'moe',
            dropout: 0,
            numLayers: 1,
            moe: {numExperts: 4, topK: 2, expertHidden: 8, numShared: 1},
          },
          50,
          3,
        ),
      false,
    ],
    [
      'MoE causal LM, learned positions, own head',
      () =>
        lm({
          positions: 'learned',
          tiedHead: false,
          ffn: 'moe',
          moe: {...DEFAULT_CAUSAL_LM_CONFIG.moe, numExperts: 4, expertHidden: 16},
        }),
      true,
    ],
    ['dense causal LM, RoPE, tied head', () => lm({ffnHidden: 48}), true],
  ];
  for (const [name, build, past] of models) {
    it(`${name}: equals the kit's own int8 model within 1e-4 with float accumulation (per channel and per tensor)`, async () => {
      const model = withSeededRandom(4, build);
      for (const granularity of ['per-channel', 'per-tensor'] as const) {
        const kit = await quantizeModel(model, {dtype: 'int8', granularity});
        const expected = kitRows(kit.model, tf.tensor2d(ids, undefined, 'int32'));
        for (const moe of ['dense', 'sparse'] as const) {
          const {bytes, report} = modelToOnnx(model, {
            quantize: 'int8',
            granularity,
            moe,
            pastKeyValues: past,
            maxPositions: 16,
          });
          expect(maxDiff(await onnxRows(bytes, past), expected), `${granularity} ${moe}`).toBeLessThan(1e-4);
          expect(report.weights.filter((w) => w.encoding.startsWith('int8')).length).toBe(
            kit.report.quantized_weights,
          );
        }
        kit.model.dispose();
      }
      model.dispose();
    });
  }
});

describe('--quantize int8 on IMDB (bag-of-words MLP trained on the fixture, 1,000 test reviews)', () => {
  let bow: ImdbBow;
  beforeAll(async () => {
    bow = await trainImdbBow();
  });
  afterAll(() => bow.dispose());

  const onnxAccuracy = async (bytes: Uint8Array) => {
    const s = await session(bytes);
    const x = bow.xTest;
    const out = await s.run({features: new ort.Tensor('float32', x.dataSync() as Float32Array, x.shape)});
    const rows = rowsOf(out.logits!);
    return (100 * rows.filter((r, i) => (r[1]! > r[0]! ? 1 : 0) === bow.yTest[i]).length) / rows.length;
  };

  it('with ONNX Runtime defaults both int8 kernels score within 0.5 points of the kit int8 model, at about a quarter of the float32 bytes', async () => {
    const kit = await quantizeModel(bow.model, {dtype: 'int8'});
    const kitInt8 = accuracyPercent(kit.model, bow.xTest, bow.yTest);
    kit.model.dispose();
    const fp32 = modelToOnnx(bow.model);
    expect(await onnxAccuracy(fp32.bytes)).toBeCloseTo(accuracyPercent(bow.model, bow.xTest, bow.yTest), 5);
    for (const int8Kernel of ['dequantize', 'integer'] as const) {
      const {bytes, report} = modelToOnnx(bow.model, {quantize: 'int8', int8Kernel});
      const accuracy = await onnxAccuracy(bytes);
      expect(
        Math.abs(accuracy - kitInt8),
        `${int8Kernel}: ${accuracy} vs kit int8 ${kitInt8}`,
      ).toBeLessThanOrEqual(0.5);
      expect(report.weight_bytes / fp32.report.weight_bytes).toBeLessThan(0.27);
    }
  });
});
