import {spawnSync} from 'node:child_process';
import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {buildCausalLM, DEFAULT_CAUSAL_LM_CONFIG} from '../../src/models/causal-lm/causal-lm.js';
import {
  buildFeatureClassifier,
  DEFAULT_FEATURE_CLASSIFIER_CONFIG,
} from '../../src/models/feature-classifier/feature-classifier.js';
import {buildClassifier, DEFAULT_CLASSIFIER_CONFIG} from '../../src/models/text-classifier/classifier.js';
import {modelToOnnx} from '../../src/onnx/model-to-onnx.js';
import {withSeededRandom} from '../../src/train/seeded-random.js';

const python = (code: string, args: string[] = []) =>
  spawnSync('python3', ['-c', code, ...args], {encoding: 'utf8', timeout: 120_000});
const has = (module: string) => python(`import ${module}`).status === 0;

// Python's `onnx` package comes from the pip index (.ci/run installs it); where it is missing
// these checks skip, and say so.
const HAS_ONNX = has('onnx');
if (!HAS_ONNX) console.warn('python-check: skipped, python3 has no `onnx` module (pip install --user onnx)');

let root: string;
beforeAll(async () => {
  await initBackend();
  root = await mkdtemp(join(tmpdir(), 'dsk-onnx-py-'));
});
afterAll(async () => {
  await rm(root, {recursive: true, force: true});
});

describe.skipIf(!HAS_ONNX)("Python onnx's checker", () => {
  it('onnx.checker.check_model(full_check=True) passes for every kind, float32 and int8, dense and sparse MoE', async () => {
    const moe = {numExperts: 4, topK: 2, expertHidden: 8, numShared: 1};
    const lmConfig = {
      ...DEFAULT_CAUSAL_LM_CONFIG,
      contextLength: 16,
      dModel: 16,
      numLayers: 1,
      numHeads: 2,
      numKvHeads: 1,
      ffnHidden: 24,
    };
    const models = {
      lm: () => buildCausalLM(lmConfig, 40),
      'lm-moe-learned': () =>
        buildCausalLM({...lmConfig, ffn: 'moe', positions: 'learned', moe: {...lmConfig.moe, ...moe}}, 40),
      classifier: () =>
        buildClassifier(
          {...DEFAULT_CLASSIFIER_CONFIG, maxLen: 8, dModel: 16, numHeads: 2, numLayers: 1, ffn: 'moe', moe},
          40,
          3,
        ),
      features: () => buildFeatureClassifier({...DEFAULT_FEATURE_CLASSIFIER_CONFIG, ffn: 'moe'}, 4, 3),
    };
    const files: string[] = [];
    for (const [name, build] of Object.entries(models)) {
      const model = withSeededRandom(1, build);
      for (const quantize of ['none', 'int8'] as const) {
        for (const graph of ['dense', 'sparse'] as const) {
          for (const int8Kernel of quantize === 'int8'
            ? (['dequantize', 'integer'] as const)
            : (['dequantize'] as const)) {
            const {bytes} = modelToOnnx(model, {
              quantize,
              int8Kernel,
              moe: graph,
              pastKeyValues: name.startsWith('lm'),
              maxPositions: 16,
              probabilities: !name.startsWith('lm'),
              standardize: name === 'features' ? {mean: [1, 2, 3, 4], std: [1, 1, 2, 2]} : undefined,
            });
            const file = join(root, `${name}-${quantize}-${int8Kernel}-${graph}.onnx`);
            await writeFile(file, bytes);
            files.push(file);
          }
        }
      }
      model.dispose();
    }
    const check = python(
      'import sys, onnx\nfor p in sys.argv[1:]:\n    onnx.checker.check_model(onnx.load(p), full_check=True)\nprint(len(sys.argv) - 1, "ok")',
      files,
    );
    expect(check.stderr).toBe('');
    expect(check.stdout.trim()).toBe(`${files.length} ok`);
  });
});
