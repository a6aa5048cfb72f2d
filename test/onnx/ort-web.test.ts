import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {buildCausalLM, DEFAULT_CAUSAL_LM_CONFIG} from '../../src/models/causal-lm/causal-lm.js';
import {modelToOnnx} from '../../src/onnx/model-to-onnx.js';
import {withSeededRandom} from '../../src/train/seeded-random.js';
import {FLOAT_ACCUMULATION, maxDiff, rowsOf} from './ort.js';

beforeAll(async () => {
  await initBackend();
});

// onnxruntime-web is what a browser runs; its wasm backend also runs in Node, with the same API
// the README's browser example uses. It computes DequantizeLinear + MatMul in float32, as the kit's
// int8 model does, so it is compared with onnxruntime-node in float accumulation.
describe('onnxruntime-web (wasm)', () => {
  it('runs an exported int8 MoE language model with past key/values as onnxruntime-node does', async () => {
    const config = {
      ...DEFAULT_CAUSAL_LM_CONFIG,
      contextLength: 16,
      dModel: 32,
      numLayers: 2,
      numHeads: 4,
      numKvHeads: 2,
      ffn: 'moe' as const,
      moe: {...DEFAULT_CAUSAL_LM_CONFIG.moe, numExperts: 4, expertHidden: 16},
    };
    const model = withSeededRandom(6, () => buildCausalLM(config, 50));
    const {bytes} = modelToOnnx(model, {quantize: 'int8', pastKeyValues: true, maxPositions: 16});
    model.dispose();
    ortWeb.env.wasm.numThreads = 1;
    const results: number[][][] = [];
    for (const ort of [ortWeb, ortNode] as unknown as (typeof ortWeb)[]) {
      const s = await ort.InferenceSession.create(bytes, ort === ortWeb ? {} : FLOAT_ACCUMULATION);
      const feeds: Record<string, ortWeb.Tensor> = {
        input_ids: new ort.Tensor('int64', BigInt64Array.from([3, 14, 15, 9, 2], BigInt), [1, 5]),
      };
      for (let i = 0; i < config.numLayers; i++) {
        for (const part of ['key', 'value']) {
          feeds[`past_key_values.${i}.${part}`] = new ort.Tensor(
            'float32',
            new Float32Array(0),
            [1, 2, 0, 8],
          );
        }
      }
      const out = await s.run(feeds);
      expect(out['present.1.value']!.dims).toEqual([1, 2, 5, 8]);
      results.push(rowsOf(out.logits! as unknown as ortNode.Tensor));
    }
    expect(maxDiff(results[0]!, results[1]!)).toBeLessThan(1e-4);
  });
});
