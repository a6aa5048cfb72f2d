import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {pruneStructures} from '../../src/compress/prune-structures.js';
import {denseUnitPairs, pruneDenseUnits} from '../../src/compress/prune-units.js';
import {
  buildFeatureClassifier,
  type FeatureClassifierConfig,
} from '../../src/models/feature-classifier/feature-classifier.js';
import {trainFeatureClassifier} from '../../src/models/feature-classifier/feature-classifier-train.js';
import {loadRun} from '../../src/run/load-run.js';
import {saveLayersModel} from '../../src/run/run-folder.js';
import {withSeededRandom} from '../../src/train/seeded-random.js';
import {pruneRun} from '../../src/workflows/prune.js';
import {formatPruneReport} from '../../src/workflows/prune-report.js';
import {kitClassifier} from './kit-model.js';

const CONFIG: FeatureClassifierConfig = {
  width: 8,
  numLayers: 2,
  ffn: 'dense',
  ffnHidden: 12,
  moe: {numExperts: 2, topK: 1, expertHidden: 4, numShared: 0},
  dropout: 0,
};
const weight = (model: tf.LayersModel, name: string) => model.weights.find((w) => w.originalName === name)!;
const features = () => tf.tidy(() => tf.randomNormal([20, 5], 0, 1, 'float32', 5));
const predict = (model: tf.LayersModel) =>
  tf.tidy(() => {
    const x = features();
    return (model.predict(x) as tf.Tensor).arraySync() as number[][];
  });
const maxDiff = (a: number[][], b: number[][]) =>
  Math.max(...a.flatMap((row, i) => row.map((v, j) => Math.abs(v - b[i]![j]!))));

/** Multiplies unit j of `layer` (kernel column, bias entry, and row j of `next`) by `factor` for j in `units`. */
function scaleUnits(
  model: tf.LayersModel,
  layer: string,
  next: string,
  units: number[],
  factor: number,
): void {
  const n = weight(model, `${layer}/bias`).shape[0]!;
  const mask = Array.from({length: n}, (_, j) => (units.includes(j) ? factor : 1));
  tf.tidy(() => {
    for (const [name, m] of [
      [`${layer}/kernel`, tf.tensor1d(mask)],
      [`${layer}/bias`, tf.tensor1d(mask)],
      [`${next}/kernel`, tf.tensor2d(mask, [n, 1])],
    ] as const) {
      const w = weight(model, name);
      w.write(tf.mul(w.read(), m));
    }
  });
}

describe('pruneDenseUnits on the numeric-feature MLP', () => {
  let dir: string;
  beforeAll(async () => {
    await initBackend();
    dir = await mkdtemp(join(tmpdir(), 'dsk-prune-units-'));
  });
  afterAll(() => rm(dir, {recursive: true, force: true}));

  it('finds the blocks’ hidden layers (the stem feeds the residual adds), or the stem when there are no blocks', () => {
    const model = withSeededRandom(2, () => buildFeatureClassifier(CONFIG, 5, 3));
    expect(denseUnitPairs(model)).toEqual([
      {layer: 'block0_up', next: 'block0_down', units: 12},
      {layer: 'block1_up', next: 'block1_down', units: 12},
    ]);
    // Through the head's Dropout, which is elementwise.
    const flat = withSeededRandom(2, () =>
      buildFeatureClassifier({...CONFIG, numLayers: 0, dropout: 0.1}, 5, 3),
    );
    expect(denseUnitPairs(flat)).toEqual([{layer: 'stem', next: 'logits', units: 8}]);
    const moe = withSeededRandom(2, () => buildFeatureClassifier({...CONFIG, ffn: 'moe'}, 5, 3));
    expect(denseUnitPairs(moe)).toEqual([]);
    for (const m of [model, flat, moe]) m.dispose();
  });

  it('removes the units of least L1 norm: predicted parameters, the outputs of masking them, a run folder with ffnHidden updated', async () => {
    const model = withSeededRandom(2, () => buildFeatureClassifier(CONFIG, 5, 3));
    const weakest = {block0_up: [2, 5, 11], block1_up: [0, 1, 7]};
    for (const [layer, units] of Object.entries(weakest)) {
      scaleUnits(model, layer, layer.replace('_up', '_down'), units, 0.01);
    }
    const tensors = tf.memory().numTensors;
    const {model: pruned, layers} = await pruneDenseUnits(model, 0.25);
    expect(layers.map((l) => [l.layer, l.units_before, l.units_after])).toEqual([
      ['block0_up', 12, 9],
      ['block1_up', 12, 9],
    ]);
    // Per block, 3 units: a kernel column (8) and a bias of `up`, a row (8) of `down`.
    expect(model.countParams() - pruned.countParams()).toBe(2 * 3 * (8 + 1 + 8));
    for (const [layer, units] of Object.entries(weakest)) {
      scaleUnits(model, layer, layer.replace('_up', '_down'), units, 0);
    }
    expect(maxDiff(predict(pruned), predict(model))).toBeLessThan(1e-5);
    pruned.dispose();
    expect(tf.memory().numTensors).toBe(tensors);

    // Through pruneRun: a feature-classifier run folder, `all` finds only units there.
    const run = join(dir, 'run');
    await saveLayersModel(model, join(run, 'model'));
    const stats = {columns: ['a', 'b', 'c', 'd', 'e'], mean: [0, 0, 0, 0, 0], std: [1, 1, 1, 1, 1]};
    await writeFile(
      join(run, 'config.json'),
      JSON.stringify({task: 'classify', model: CONFIG, features: stats}),
    );
    await writeFile(join(run, 'labels.json'), JSON.stringify(['x', 'y', 'z']));
    const report = await pruneRun({model: run, out: join(dir, 'slim'), method: 'structured', sparsity: 0.5});
    expect(report.structures!.map((s) => [s.structure, s.before, s.after, s.parameters_removed])).toEqual([
      ['units', 24, 12, 2 * 6 * 17],
    ]);
    expect(formatPruneReport(report)).toMatch(/dense units\s+24 → 12 \(−204 parameters\)/);
    const saved = await loadRun(join(dir, 'slim'));
    expect((saved.config.model as FeatureClassifierConfig).ffnHidden).toBe(6);
    expect(saved.labels).toEqual(['x', 'y', 'z']);
    expect(saved.model.countParams()).toBe(report.parameters_after);
    saved.model.dispose();
    model.dispose();
  });

  it('says what is missing when the model has none of the asked structure', async () => {
    const moe = withSeededRandom(2, () => buildFeatureClassifier({...CONFIG, ffn: 'moe'}, 5, 3));
    await expect(pruneStructures(moe, 0.3, 'units')).rejects.toThrow(/no Dense hidden units/);
    await expect(pruneStructures(moe, 0.3, 'heads')).rejects.toThrow(/no attention heads/);
    await expect(pruneStructures(moe, 0.3)).rejects.toThrow(/nothing to shrink.*--method magnitude/s);
    const transformer = kitClassifier('dense');
    await expect(pruneStructures(transformer, 0.3, 'units')).rejects.toThrow(/--structure ffn or heads/);
    const {structures, model} = await pruneStructures(transformer, 0.5);
    expect(structures.map((s) => [s.structure, s.before, s.after])).toEqual([
      ['ffn', 24, 12],
      ['heads', 2, 1],
    ]);
    // ffn: 12 neurons × 16 × 3 kernels; heads: one head of 8 → q, k, v 16×8 and o 8×16.
    expect(structures.map((s) => s.parameters_removed)).toEqual([12 * 16 * 3, 4 * 16 * 8]);
    expect(transformer.countParams() - model.countParams()).toBe(12 * 16 * 3 + 4 * 16 * 8);
    for (const m of [moe, transformer, model]) m.dispose();
  });
});

describe('pruneRun --structure', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('is refused with another method', async () => {
    await expect(
      pruneRun({model: 'nowhere', out: 'nowhere-out', method: 'magnitude', structure: 'heads'}),
    ).rejects.toThrow(/--structure applies to --method structured/);
  });

  it('writes numHeads and headDim to config.json after removing heads', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dsk-prune-heads-run-'));
    const model = kitClassifier('dense');
    await writeFile(
      join(dir, 'config.json'),
      JSON.stringify({task: 'classify', model: {dModel: 16, numHeads: 2, ffnHidden: 24}}),
    );
    await saveLayersModel(model, join(dir, 'model'));
    const report = await pruneRun({
      model: dir,
      out: `${dir}-out`,
      method: 'structured',
      structure: 'heads',
      sparsity: 0.5,
    });
    expect(report.structures!.map((s) => s.structure)).toEqual(['heads']);
    const config = JSON.parse(await readFile(join(`${dir}-out`, 'config.json'), 'utf8'));
    expect(config.model).toEqual({dModel: 16, numHeads: 1, headDim: 8, ffnHidden: 24});
    expect(config.pruned.structures).toEqual(['heads']);
    model.dispose();
    await rm(dir, {recursive: true, force: true});
    await rm(`${dir}-out`, {recursive: true, force: true});
  });
});

describe('structured units on a numeric-feature run trained on iris', () => {
  it('halves the block’s hidden units, reports accuracy before and after, recovers with --data', async () => {
    await initBackend();
    const dir = await mkdtemp(join(tmpdir(), 'dsk-prune-iris-'));
    const IRIS = 'fixtures/tabular/iris.csv';
    const run = join(dir, 'iris');
    await trainFeatureClassifier({
      data: IRIS,
      out: run,
      features: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
      labelField: 'species',
      epochs: 25,
      batchSize: 16,
      lr: 0.01,
      seed: 3,
    });
    const report = await pruneRun({
      model: run,
      out: join(dir, 'half'),
      method: 'structured',
      sparsity: 0.5,
      eval: IRIS,
    });
    // preset small: width 32, one block of ffnHidden 64 → 32 units, each 32 + 1 + 32 parameters.
    expect(report.structures).toMatchObject([
      {structure: 'units', before: 64, after: 32, parameters_removed: 32 * 65},
    ]);
    const config = JSON.parse(await readFile(join(dir, 'half', 'config.json'), 'utf8'));
    expect(config.model).toMatchObject({width: 32, ffnHidden: 32});
    console.log(
      `structured 50% units (iris, small feature MLP): parameters ${report.parameters_before} → ${report.parameters_after}, ` +
        `accuracy ${(100 * report.accuracy_before!).toFixed(1)} → ${(100 * report.accuracy_after!).toFixed(1)}`,
    );
    expect(report.accuracy_before).toBeGreaterThan(0.8);
    // --data fine-tunes a numeric-feature run too, with the rows its kind reads (readData).
    const recovered = await pruneRun({
      model: run,
      out: join(dir, 'x'),
      method: 'structured',
      sparsity: 0.5,
      data: IRIS,
      steps: 5,
    });
    expect(recovered.finetune_steps).toBe(5);
    await rm(dir, {recursive: true, force: true});
  }, 60_000);
});
