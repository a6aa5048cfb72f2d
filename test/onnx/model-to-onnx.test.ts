import {readFileSync} from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {ModelError} from '../../src/errors.js';
import {MoE, type MoEArgs} from '../../src/layers/moe.js';
import {walkLayers} from '../../src/layers/walk-layers.js';
import {applyLoRA, isLoRALayer} from '../../src/lora/lora-model.js';
import {
  buildFeatureClassifier,
  DEFAULT_FEATURE_CLASSIFIER_CONFIG,
  fitFeatureStats,
  standardize,
} from '../../src/models/feature-classifier/feature-classifier.js';
import {buildClassifier, DEFAULT_CLASSIFIER_CONFIG} from '../../src/models/text-classifier/classifier.js';
import {modelToOnnx} from '../../src/onnx/model-to-onnx.js';
import {withSeededRandom} from '../../src/train/seeded-random.js';
import {ROOT} from '../helpers/cli.js';
import {tinyEmbeddingModel} from '../lora/lora-fixtures.js';
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
  it('fasttext (hashed bigrams beside the tokens) equals the kit within 1e-4', async () => {
    const {diff} = await compareClassifier(classifier({numLayers: 0, bigramBuckets: 37}));
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

/** The iris fixture's four measurements, [150 × 4] row-major. */
function irisFeatures(): Float32Array {
  const lines = readFileSync(`${ROOT}/fixtures/tabular/iris.csv`, 'utf8').trim().split('\n').slice(1);
  return Float32Array.from(lines.flatMap((l) => l.split(',').slice(0, 4).map(Number)));
}

async function compareFeatures(
  model: tf.LayersModel,
  raw: Float32Array,
  kitInput: Float32Array,
  shape: number[],
  options: Parameters<typeof modelToOnnx>[1] = {},
) {
  const {bytes} = modelToOnnx(model, options);
  const s = await session(bytes);
  const out = await s.run({features: new ort.Tensor('float32', raw, shape)});
  return maxDiff(rowsOf(out.logits!), kitRows(model, tf.tensor(kitInput, shape)));
}

describe('modelToOnnx: numeric-feature classifiers', () => {
  const raw = irisFeatures();
  const stats = fitFeatureStats(['a', 'b', 'c', 'd'], raw);
  it('MLP and MoE-MLP take raw features (standardization in the graph) and equal the kit within 1e-4', async () => {
    for (const ffn of ['dense', 'moe'] as const) {
      const model = withSeededRandom(7, () =>
        buildFeatureClassifier({...DEFAULT_FEATURE_CLASSIFIER_CONFIG, numLayers: 2, ffn}, 4, 3),
      );
      for (const moe of ['dense', 'sparse'] as const) {
        const diff = await compareFeatures(model, raw, standardize(raw, stats), [150, 4], {
          standardize: stats,
          moe,
        });
        expect(diff, `${ffn} ${moe}`).toBeLessThan(1e-4);
      }
      model.dispose();
    }
  });
});

/** features [6, 12] → MoE(args) → [6, 12], with a random routing bias when balancing is on. */
function moeModel(args: Omit<MoEArgs, 'name'>): tf.LayersModel {
  return withSeededRandom(11, () => {
    const input = tf.input({shape: [6, 12]});
    const layer = new MoE({name: 'moe', ...args});
    const model = tf.model({inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor});
    const bias = layer.weights.find((w) => w.originalName.endsWith('balance_bias'))!;
    bias.write(tf.randomUniform([args.numExperts], -0.05, 0.05, 'float32', 3));
    return model;
  });
}

describe('modelToOnnx: MoE routing options', () => {
  const x = tf.randomNormal([5, 6, 12], 0, 1, 'float32', 9);
  const data = x.dataSync() as Float32Array;
  const cases: [string, Omit<MoEArgs, 'name'>][] = [
    ['softmax, top-2, SwiGLU, shared', {numExperts: 6, topK: 2, expertHidden: 8, numShared: 1}],
    [
      'sigmoid, group-limited with balancing bias, GELU, temperature, route scale',
      {
        numExperts: 8,
        topK: 3,
        expertHidden: 8,
        scoring: 'sigmoid',
        numGroups: 4,
        topKGroups: 2,
        biasUpdateSpeed: 0.01,
        activation: 'gelu',
        temperature: 0.7,
        routeScale: 2.5,
      },
    ],
    [
      'softmax group-limited without bias, ReLU, renormalised',
      {
        numExperts: 8,
        topK: 2,
        expertHidden: 8,
        numGroups: 2,
        topKGroups: 1,
        activation: 'relu',
        normTopK: true,
      },
    ],
  ];
  for (const [name, args] of cases) {
    it(`${name}: dense and sparse graphs equal the kit within 1e-4`, async () => {
      const model = moeModel(args);
      for (const moe of ['dense', 'sparse'] as const) {
        expect(await compareFeatures(model, data, data, [5, 6, 12], {moe}), moe).toBeLessThan(1e-4);
      }
      model.dispose();
    });
  }
});

/** Sets every LoRA B (of LoRADense, LoRAEmbedding and MoE expert adapters) to random values. */
function perturbAdapters(model: tf.LayersModel): void {
  for (const {layer} of walkLayers(model)) {
    if (!isLoRALayer(layer)) continue;
    const weights = layer.getAdapterWeights();
    const next = weights.map((w, i) =>
      i % 2 === 1 ? tf.randomUniform(w.shape, -0.5, 0.5, 'float32', i) : w,
    );
    layer.setAdapterWeights(next);
    tf.dispose([...weights, ...next.filter((_, i) => i % 2 === 1)]);
  }
}

describe('modelToOnnx: LoRA and refusals', () => {
  const probe = tf.tensor2d(sampleIds(6), undefined, 'int32');
  it('a LoRA model (adapters on embedding, attention, SwiGLU, experts, head) exports fused and equals the kit within 1e-4', async () => {
    for (const ffn of ['dense', 'moe'] as const) {
      const base = classifier({
        numLayers: 1,
        ffn,
        moe: {numExperts: 4, topK: 2, expertHidden: 8, numShared: 1},
      });
      const {model} = applyLoRA(base, {rank: 2, alpha: 4, targets: /./});
      perturbAdapters(model);
      expect(maxDiff(kitRows(model, probe), kitRows(base, probe))).toBeGreaterThan(1e-2);
      const {diff, report} = await compareClassifier(model);
      expect(diff, ffn).toBeLessThan(1e-4);
      expect(report.weights.some((w) => /lora/.test(w.name))).toBe(false);
      base.dispose();
      model.dispose();
    }
  });

  it("tfjs's Embedding, plain and with a LoRA adapter (base 'embedding'), equals the kit within 1e-4", async () => {
    const ids = [
      [1, 8, 0],
      [4, 4, 2],
    ];
    const base = tinyEmbeddingModel('embedding');
    const {model: adapted} = applyLoRA(base, {rank: 2, targets: ['tok']});
    perturbAdapters(adapted);
    for (const model of [base, adapted]) {
      const s = await session(modelToOnnx(model).bytes);
      const out = await s.run({input_ids: idsTensor(ids)});
      expect(maxDiff(rowsOf(out.logits!), kitRows(model, tf.tensor2d(ids, undefined, 'int32')))).toBeLessThan(
        1e-4,
      );
    }
    base.dispose();
    adapted.dispose();
  });

  it('Dense activations convert; a layer class without a converter is a ModelError naming it', async () => {
    const input = tf.input({shape: [4]});
    let h = input;
    for (const activation of ['sigmoid', 'tanh', 'relu', 'softmax'] as const) {
      h = tf.layers.dense({units: 5, activation}).apply(h) as tf.SymbolicTensor;
    }
    const model = tf.model({inputs: input, outputs: h});
    const raw = irisFeatures().subarray(0, 40);
    expect(await compareFeatures(model, raw, raw, [10, 4])).toBeLessThan(1e-4);
    const norm = tf.layers.layerNormalization({name: 'ln'});
    const refused = tf.model({inputs: input, outputs: norm.apply(input) as tf.SymbolicTensor});
    expect(() => modelToOnnx(refused)).toThrow(ModelError);
    expect(() => modelToOnnx(refused)).toThrow(/layer 'ln' is a LayerNormalization/);
    const elu = tf.model({
      inputs: input,
      outputs: tf.layers.dense({units: 2, activation: 'elu', name: 'e'}).apply(input) as tf.SymbolicTensor,
    });
    expect(() => modelToOnnx(elu)).toThrow(/'e' has activation 'elu'/);
  });
});
