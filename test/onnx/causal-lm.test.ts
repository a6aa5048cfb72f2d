import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {CachedDecoder} from '../../src/models/causal-lm/cached-decoder.js';
import {
  buildCausalLM,
  type CausalLMConfig,
  DEFAULT_CAUSAL_LM_CONFIG,
} from '../../src/models/causal-lm/causal-lm.js';
import {modelToOnnx} from '../../src/onnx/model-to-onnx.js';
import {withSeededRandom} from '../../src/train/seeded-random.js';
import {argmaxAt, emptyPast, idsTensor, kitRows, maxDiff, onnxGreedy, rowsOf, session} from './ort.js';

beforeAll(async () => {
  await initBackend();
});

const VOCAB = 64;
const CONTEXT = 40;

const lm = (overrides: Partial<CausalLMConfig>, seed = 5) => {
  const config: CausalLMConfig = {
    ...DEFAULT_CAUSAL_LM_CONFIG,
    contextLength: CONTEXT,
    dModel: 32,
    numLayers: 2,
    numHeads: 4,
    ffnHidden: 48,
    ...overrides,
  };
  return {config, model: withSeededRandom(seed, () => buildCausalLM(config, VOCAB))};
};

/** Greedy decoding with the kit's own KV-cached decoder (what `generate` runs at temperature 0). */
function kitGreedy(model: tf.LayersModel, config: CausalLMConfig, prompt: number[], steps: number): number[] {
  const decoder = new CachedDecoder(model, config);
  const out: number[] = [];
  try {
    let logits = decoder.step(prompt);
    for (let i = 0; i < steps; i++) {
      const next = argmaxAt(logits.dataSync() as Float32Array, 0, VOCAB);
      logits.dispose();
      out.push(next);
      if (i + 1 < steps) logits = decoder.step([next]);
    }
  } finally {
    decoder.dispose();
  }
  return out;
}

const CASES: [string, Partial<CausalLMConfig>][] = [
  ['dense, RoPE, grouped KV heads, tied head', {numKvHeads: 2}],
  [
    'dense, learned positions, own head, headDim ≠ dModel/numHeads',
    {positions: 'learned', tiedHead: false, numHeads: 2, headDim: 12},
  ],
  [
    'MoE (sigmoid router, shared expert), RoPE',
    {
      ffn: 'moe',
      moe: {...DEFAULT_CAUSAL_LM_CONFIG.moe, numExperts: 4, topK: 2, expertHidden: 16, scoring: 'sigmoid'},
    },
  ],
  [
    'MoE (softmax router), learned positions',
    {
      ffn: 'moe',
      positions: 'learned',
      moe: {...DEFAULT_CAUSAL_LM_CONFIG.moe, numExperts: 4, topK: 2, expertHidden: 16},
    },
  ],
];

describe('modelToOnnx: causal LMs in ONNX Runtime', () => {
  for (const [name, overrides] of CASES) {
    it(`${name}: logits equal the kit's within 1e-4; greedy tokens equal with and without past key/values`, async () => {
      const {config, model} = lm(overrides);
      const {bytes, report} = modelToOnnx(model, {pastKeyValues: true, maxPositions: CONTEXT});
      expect(report.outputs.map((o) => o.name)).toContain('present.1.value');
      const s = await session(bytes);
      const ids = [
        Array.from({length: 10}, (_, i) => (i * 11 + 3) % VOCAB),
        Array.from({length: 10}, (_, i) => (i * 5 + 1) % VOCAB),
      ];
      const out = await s.run({input_ids: idsTensor(ids), ...emptyPast(s, 2)});
      expect(out['present.0.key']!.dims[2]).toBe(10);
      expect(maxDiff(rowsOf(out.logits!), kitRows(model, tf.tensor2d(ids, undefined, 'int32')))).toBeLessThan(
        1e-4,
      );
      const prompt = [1, 7, 19, 4];
      const steps = 24;
      const kit = kitGreedy(model, config, prompt, steps);
      expect(await onnxGreedy(s, prompt, steps, true)).toEqual(kit);
      expect(await onnxGreedy(s, prompt, steps, false)).toEqual(kit);
      model.dispose();
    });
  }
});
