import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../../src/backend/backend.js';
import {runBalance} from '../../../src/data/run-balance.js';
import {classifierLoss} from '../../../src/models/classify/classifier-training.js';
import {withClassWeights} from '../../../src/models/classify/labeled-data.js';
import {
  buildFeatureClassifier,
  DEFAULT_FEATURE_CLASSIFIER_CONFIG,
} from '../../../src/models/feature-classifier/feature-classifier.js';
import {trainFeatureClassifier} from '../../../src/models/feature-classifier/feature-classifier-train.js';
import type {Batch} from '../../../src/train/batch-source.js';
import {withSeededRandom} from '../../../src/train/seeded-random.js';
import {evaluateRun} from '../../../src/workflows/evaluate.js';

const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
let dir: string;
let model: tf.LayersModel;

beforeAll(async () => {
  await initBackend();
  dir = await mkdtemp(join(tmpdir(), 'dsk-weights-'));
  const config = {...DEFAULT_FEATURE_CLASSIFIER_CONFIG, dropout: 0, width: 8, ffnHidden: 8};
  model = withSeededRandom(7, () => buildFeatureClassifier(config, 3, 3));
});
afterAll(async () => {
  model.dispose();
  await rm(dir, {recursive: true, force: true});
});

const ROWS = [
  {x: [0.5, -1, 2], y: 0},
  {x: [-0.3, 0.8, 0.1], y: 1},
  {x: [1.5, 0.2, -0.7], y: 2},
  {x: [0, 0, 1], y: 1},
];

/** Loss and gradients (by weight name) of the classifier loss on `picked` rows with `weights`. */
function lossAndGrads(picked: number[], weights: number[]): {loss: number; grads: Map<string, Float32Array>} {
  const batch: Batch = {
    inputs: tf.tensor2d(picked.map((i) => ROWS[i]!.x)),
    targets: tf.tensor1d(
      picked.map((i) => ROWS[i]!.y),
      'int32',
    ),
    weights: tf.tensor1d(weights),
    size: picked.length,
  };
  const loss = classifierLoss(model);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const {value, grads} = tf.variableGrads(() => {
    const out = loss(batch, {training: true, step: 0, epoch: 0, seed: 1});
    return 'loss' in out ? out.loss : out;
  }, vars);
  const result = {
    loss: value.dataSync()[0]!,
    grads: new Map(Object.entries(grads).map(([k, g]) => [k, g.dataSync() as Float32Array])),
  };
  tf.dispose([value, ...Object.values(grads), batch.inputs, batch.targets, batch.weights!]);
  return result;
}

function expectSame(a: ReturnType<typeof lossAndGrads>, b: ReturnType<typeof lossAndGrads>): void {
  expect(a.loss).toBeCloseTo(b.loss, 5);
  expect([...a.grads.keys()].sort()).toEqual([...b.grads.keys()].sort());
  for (const [name, g] of a.grads) {
    const other = b.grads.get(name)!;
    for (let i = 0; i < g.length; i++) expect(g[i]!).toBeCloseTo(other[i]!, 5);
  }
}

describe('sample weights in the classifier loss', () => {
  it('a row of weight 0 changes neither the loss nor the gradients', () => {
    expectSame(lossAndGrads([0, 1, 2], [1, 1, 0]), lossAndGrads([0, 1], [1, 1]));
  });

  it('doubling a row’s weight equals duplicating the row', () => {
    expectSame(lossAndGrads([0, 1, 3], [2, 1, 1]), lossAndGrads([0, 0, 1, 3], [1, 1, 1, 1]));
  });

  it('scaling every weight leaves the weighted mean unchanged, and unequal weights do change it', () => {
    expectSame(lossAndGrads([0, 1, 2], [3, 3, 3]), lossAndGrads([0, 1, 2], [1, 1, 1]));
    expect(lossAndGrads([0, 1, 2], [5, 1, 1]).loss).not.toBeCloseTo(
      lossAndGrads([0, 1, 2], [1, 1, 1]).loss,
      3,
    );
  });

  it('balanced class weights make every class weigh the same in total', () => {
    const classes = Int32Array.from([0, 0, 0, 0, 0, 0, 1, 1, 2]);
    const w = withClassWeights(classes, new Float32Array(9).fill(1), 3, 'balanced');
    const perClass = [0, 0, 0];
    classes.forEach((c, i) => {
      perClass[c]! += w[i]!;
    });
    for (const total of perClass) expect(total).toBeCloseTo(3, 5);
    expect(withClassWeights(classes, Float32Array.from([2, ...new Array(8).fill(1)]), 3, 'none')[0]).toBe(2);
  });
});

describe('weights in training', () => {
  const iris = () => readFile('fixtures/tabular/iris.csv', 'utf8').then((t) => t.trim().split('\n'));
  const train = (data: string, out: string, extra: object = {}) =>
    trainFeatureClassifier({
      data,
      out: join(dir, out),
      features: FEATURES,
      labelField: 'species',
      epochs: 25,
      batchSize: 16,
      lr: 0.01,
      seed: 3,
      ...extra,
    });

  it('rows of weight 0 are never learnt; the same rows at weight 1 are', async () => {
    const [header, ...rows] = await iris();
    const weighted = rows.map((r) => `${r},${r.endsWith('virginica') ? 0 : 1}`);
    const data = join(dir, 'iris-w.csv');
    await writeFile(data, `${header},w\n${weighted.join('\n')}\n`);
    await train(data, 'zero', {weightField: 'w'});
    const zero = (await evaluateRun({model: join(dir, 'zero'), data: 'fixtures/tabular/iris.csv'})) as {
      per_class: Record<string, {recall: number}>;
    };
    expect(zero.per_class.virginica!.recall).toBe(0);
    await train(data, 'one');
    const one = (await evaluateRun({model: join(dir, 'one'), data: 'fixtures/tabular/iris.csv'})) as {
      per_class: Record<string, {recall: number}>;
    };
    expect(one.per_class.virginica!.recall).toBeGreaterThan(0.8);
  }, 60_000);

  it('`balance --strategy weight` output trains, and its weights reach the loss', async () => {
    // An imbalanced iris: all 50 setosa and versicolor, 5 virginica.
    const [header, ...rows] = await iris();
    let virginica = 0;
    const kept = rows.filter((r) => !r.endsWith('virginica') || ++virginica <= 5);
    const raw = join(dir, 'imbalanced.csv');
    await writeFile(raw, `${header}\n${kept.join('\n')}\n`);
    const balanced = join(dir, 'balanced.csv');
    // The data module needs a text field; any column serves, balance only reads labels.
    await runBalance({
      input: raw,
      output: balanced,
      strategy: 'weight',
      smoothing: 0,
      textField: 'sepal_length',
      labelField: 'species',
    });
    const out = (await readFile(balanced, 'utf8')).trim().split('\n');
    const cols = out[0]!.split(',');
    expect(cols).toContain('weight');
    const w = out.slice(1).map((l) => Number(l.split(',')[cols.indexOf('weight')]));
    expect(Math.max(...w) / Math.min(...w)).toBeCloseTo(10, 1);
    const report = await train(balanced, 'balanced', {epochs: 15, val: 'fixtures/tabular/iris.csv'});
    const plain = await train(raw, 'plain', {epochs: 15, val: 'fixtures/tabular/iris.csv'});
    // Same rows; only the weights differ, so the runs must differ (by more than 1%: both losses
    // end near 2e-4, where an absolute tolerance says nothing), and the weighted one does not
    // neglect the rare class on the full (balanced) data.
    expect(Math.abs(report.final_loss - plain.final_loss)).toBeGreaterThan(0.01 * plain.final_loss);
    const b = (await evaluateRun({model: join(dir, 'balanced'), data: 'fixtures/tabular/iris.csv'})) as {
      per_class: Record<string, {recall: number}>;
      accuracy: number;
    };
    const p = (await evaluateRun({model: join(dir, 'plain'), data: 'fixtures/tabular/iris.csv'})) as {
      per_class: Record<string, {recall: number}>;
    };
    console.log(
      `balance --strategy weight → iris accuracy ${b.accuracy.toFixed(3)}, virginica recall ${b.per_class.virginica!.recall.toFixed(3)} (unweighted: ${p.per_class.virginica!.recall.toFixed(3)})`,
    );
    expect(b.per_class.virginica!.recall).toBeGreaterThan(p.per_class.virginica!.recall);
    // balance's smoothing-0 weights are N / (K·n): --class-weights balanced computes the same.
    const classWeighted = await train(raw, 'class-weighted', {
      epochs: 15,
      val: 'fixtures/tabular/iris.csv',
      classWeights: 'balanced',
    });
    expect(classWeighted.final_loss).toBeCloseTo(report.final_loss, 3);
  }, 60_000);
});
