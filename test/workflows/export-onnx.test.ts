import {mkdtemp, readdir, readFile, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {
  buildCausalLM,
  type CausalLMConfig,
  DEFAULT_CAUSAL_LM_CONFIG,
} from '../../src/models/causal-lm/causal-lm.js';
import {
  buildFeatureClassifier,
  classifyFeatures,
  DEFAULT_FEATURE_CLASSIFIER_CONFIG,
  type FeatureStats,
} from '../../src/models/feature-classifier/feature-classifier.js';
import {asFeatureClassifierRun} from '../../src/models/feature-classifier/feature-classifier-run.js';
import {
  buildClassifier,
  type ClassifierConfig,
  classifyTexts,
  DEFAULT_CLASSIFIER_CONFIG,
} from '../../src/models/text-classifier/classifier.js';
import {asClassifierRun} from '../../src/models/text-classifier/classifier-run.js';
import {loadRun} from '../../src/run/load-run.js';
import {prepareRunFolder, saveRunArtifacts} from '../../src/run/run-folder.js';
import {ByteTokenizer} from '../../src/tokenizer/byte-tokenizer.js';
import {withSeededRandom} from '../../src/train/seeded-random.js';
import {exportOnnxRun} from '../../src/workflows/export-onnx.js';
import {generate} from '../../src/workflows/generate.js';
import {runCli} from '../helpers/cli.js';
import {idsTensor, maxDiff, onnxGreedy, rowsOf} from '../onnx/ort.js';

let root: string;
beforeAll(async () => {
  await initBackend();
  root = await mkdtemp(join(tmpdir(), 'dsk-onnx-'));
});
afterAll(async () => {
  await rm(root, {recursive: true, force: true});
});

const tokenizer = new ByteTokenizer();

async function writeRun(
  name: string,
  config: Record<string, unknown>,
  model: tf.LayersModel,
  labels?: string[],
) {
  const dir = join(root, name);
  await prepareRunFolder(dir, {...config, task: config.task as string});
  await saveRunArtifacts(dir, {model, tokenizer, labels});
  model.dispose();
  return dir;
}

function metadataOf(bytes: Uint8Array): Record<string, string> {
  const model = onnxProto.onnx.ModelProto.decode(bytes);
  return Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
}

describe('exportOnnxRun', () => {
  it('a language-model run: model.onnx + tokenizer.json; greedy decoding with past key/values equals `generate`', async () => {
    const config: CausalLMConfig = {
      ...DEFAULT_CAUSAL_LM_CONFIG,
      contextLength: 48,
      dModel: 32,
      numLayers: 2,
      numHeads: 2,
      ffnHidden: 48,
      tokenizerKind: 'byte',
    };
    const model = withSeededRandom(2, () => buildCausalLM(config, tokenizer.vocabSize));
    const dir = await writeRun('lm', {task: 'lm', model: config}, model);
    const out = join(root, 'lm-onnx');
    const report = await exportOnnxRun({model: dir, out});
    expect(report.kind).toBe('causal-lm');
    expect((await readdir(out)).sort()).toEqual(['model.onnx', 'tokenizer.json']);
    const bytes = await readFile(join(out, 'model.onnx'));
    expect(metadataOf(bytes)).toMatchObject({
      'deepseek_kit.kind': 'causal-lm',
      'deepseek_kit.context_length': '48',
    });
    const prompt = 'Call me Ishmael.';
    const kit = await generate(dir, prompt, {temperature: 0, maxTokens: 20});
    const s = await ort.InferenceSession.create(bytes);
    const ids = await onnxGreedy(s, await tokenizer.encode(prompt), kit.ids.length, true);
    expect(ids).toEqual(kit.ids);
    await expect(exportOnnxRun({model: dir, out})).rejects.toThrow(/already holds files/);
    await expect(exportOnnxRun({model: dir, out: join(root, 'x'), quantize: 'float16'})).rejects.toThrow(
      /--format onnx takes --quantize none or int8, not float16/,
    );
  });

  it('a text-classifier run: probabilities equal `classifyTexts`; labels.json beside the model', async () => {
    const config: ClassifierConfig = {
      ...DEFAULT_CLASSIFIER_CONFIG,
      maxLen: 24,
      dModel: 16,
      numHeads: 2,
      numLayers: 1,
      ffnHidden: 24,
      tokenizerKind: 'bpe',
    };
    const model = withSeededRandom(3, () =>
      buildClassifier(config, tokenizer.vocabSize, 2, tokenizer.special.pad),
    );
    const dir = await writeRun('clf', {task: 'classify', model: config}, model, ['neg', 'pos']);
    const out = join(root, 'clf-onnx');
    await exportOnnxRun({model: dir, out, quantize: 'int8'});
    expect(JSON.parse(await readFile(join(out, 'labels.json'), 'utf8'))).toEqual(['neg', 'pos']);
    const bytes = await readFile(join(out, 'model.onnx'));
    expect(metadataOf(bytes)['deepseek_kit.labels']).toBe('["neg","pos"]');
    const texts = ['a fine film', 'dull, long and loud', ''];
    const run = asClassifierRun(await loadRun(dir));
    const expected = await classifyTexts(run, texts);
    run.model.dispose();
    const ids = await Promise.all(texts.map((t) => tokenizer.encode(t)));
    const padded = ids.map((row) => [
      ...row,
      ...Array(config.maxLen - row.length).fill(tokenizer.special.pad),
    ]);
    const s = await ort.InferenceSession.create(bytes);
    const got = (await s.run({input_ids: idsTensor(padded)})).probabilities!;
    // int8 weights: the kit's float32 probabilities within int8 error.
    expect(
      maxDiff(rowsOf(got), [
        [...expected.subarray(0, 2)],
        [...expected.subarray(2, 4)],
        [...expected.subarray(4, 6)],
      ]),
    ).toBeLessThan(0.02);
  });

  it('a feature-classifier run takes raw features: probabilities equal `classifyFeatures` within 1e-4', async () => {
    const config = {...DEFAULT_FEATURE_CLASSIFIER_CONFIG, ffn: 'moe' as const};
    const stats: FeatureStats = {columns: ['a', 'b'], mean: [5.8, 3.1], std: [0.8, 0.4]};
    const model = withSeededRandom(4, () => buildFeatureClassifier(config, 2, 3));
    const dir = await writeRun('feat', {task: 'classify', model: config, features: stats}, model, [
      'x',
      'y',
      'z',
    ]);
    const out = join(root, 'feat-onnx');
    const report = await exportOnnxRun({model: dir, out, moe: 'sparse'});
    expect(report.inputs).toEqual([{name: 'features', dtype: 'float32', shape: ['batch', 2]}]);
    const raw = Float32Array.of(5.1, 3.5, 6.7, 3.0, 6.3, 2.5);
    const run = asFeatureClassifierRun(await loadRun(dir));
    const expected = await classifyFeatures(run, raw);
    run.model.dispose();
    const s = await ort.InferenceSession.create(await readFile(join(out, 'model.onnx')));
    const got = (await s.run({features: new ort.Tensor('float32', raw, [3, 2])})).probabilities!;
    expect(
      maxDiff(
        rowsOf(got),
        [0, 1, 2].map((i) => [...expected.subarray(3 * i, 3 * i + 3)]),
      ),
    ).toBeLessThan(1e-4);
  });

  it('CLI: export --format onnx --json prints the report; a tfjs-only encoding is a usage error (exit 1)', async () => {
    const config: CausalLMConfig = {
      ...DEFAULT_CAUSAL_LM_CONFIG,
      contextLength: 16,
      dModel: 16,
      numLayers: 1,
      numHeads: 2,
      ffnHidden: 24,
      tokenizerKind: 'byte',
      ffn: 'moe',
      moe: {...DEFAULT_CAUSAL_LM_CONFIG.moe, numExperts: 4, expertHidden: 8},
    };
    const dir = await writeRun(
      'cli-lm',
      {task: 'lm', model: config},
      buildCausalLM(config, tokenizer.vocabSize),
    );
    const out = join(root, 'cli-onnx');
    const ok = runCli([
      'export',
      '--model',
      dir,
      '--out',
      out,
      '--format',
      'onnx',
      '--quantize',
      'int8',
      '--moe-graph',
      'sparse',
      '--json',
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    const report = JSON.parse(ok.stdout);
    expect(report).toMatchObject({
      format: 'onnx',
      kind: 'causal-lm',
      quantize: 'int8',
      moe: 'sparse',
      opset: 17,
    });
    const human = runCli(['export', '--model', dir, '--out', out, '--format', 'onnx', '--overwrite']);
    expect(human.stdout).toMatch(/causal-lm: ONNX opset 17/);
    const bad = runCli([
      'export',
      '--model',
      dir,
      '--out',
      join(root, 'bad'),
      '--format',
      'onnx',
      '--quantize',
      'int4',
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--format onnx takes --quantize none or int8, not int4/);
  }, 180_000);
});
