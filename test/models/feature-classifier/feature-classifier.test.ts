import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../../src/backend/backend.js';
import {ConfigError} from '../../../src/errors.js';
import {
  buildFeatureClassifier,
  classifyFeatures,
  DEFAULT_FEATURE_CLASSIFIER_CONFIG,
  type FeatureClassifierConfig,
  fitFeatureStats,
  standardize,
} from '../../../src/models/feature-classifier/feature-classifier.js';
import {asFeatureClassifierRun} from '../../../src/models/feature-classifier/feature-classifier-run.js';
import {
  resolveFeatureClassifierConfig,
  trainFeatureClassifier,
} from '../../../src/models/feature-classifier/feature-classifier-train.js';
import {readFeatureRows} from '../../../src/models/feature-classifier/feature-data.js';
import {loadRun} from '../../../src/run/load-run.js';
import {loadLayersModel, saveLayersModel} from '../../../src/run/run-folder.js';
import {withSeededRandom} from '../../../src/train/seeded-random.js';
import {evaluateRun} from '../../../src/workflows/evaluate.js';

const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const MOE: Partial<FeatureClassifierConfig> = {
  ffn: 'moe',
  moe: {numExperts: 4, topK: 2, expertHidden: 16, numShared: 1},
};
let dir: string;
let trainFile: string;
let testFile: string;

beforeAll(async () => {
  await initBackend();
  dir = await mkdtemp(join(tmpdir(), 'dsk-feature-clf-'));
  // Held-out split: every fifth row (10 of each species) is test data the training never reads.
  const [header, ...rows] = (await readFile('fixtures/tabular/iris.csv', 'utf8')).trim().split('\n');
  trainFile = join(dir, 'train.csv');
  testFile = join(dir, 'test.csv');
  await writeFile(trainFile, `${header}\n${rows.filter((_, i) => i % 5 !== 0).join('\n')}\n`);
  await writeFile(testFile, `${header}\n${rows.filter((_, i) => i % 5 === 0).join('\n')}\n`);
});
afterAll(() => rm(dir, {recursive: true, force: true}));

const trainIris = (out: string, config?: Partial<FeatureClassifierConfig>) =>
  (async () => {
    let configFile: string | undefined;
    if (config) {
      configFile = join(dir, `${out}.json`);
      await writeFile(configFile, JSON.stringify(config));
    }
    return trainFeatureClassifier({
      data: trainFile,
      out: join(dir, out),
      configFile,
      features: FEATURES,
      labelField: 'species',
      epochs: 40,
      batchSize: 16,
      lr: 0.01,
      seed: 11,
    });
  })();

describe('standardization', () => {
  it('gives each training column mean 0 and std 1; a constant column maps to 0', () => {
    const x = Float32Array.from([1, 5, 10, 3, 5, 20, 5, 5, 30]);
    const stats = fitFeatureStats(['a', 'b', 'c'], x);
    expect(stats.mean).toEqual([3, 5, 20].map((v) => expect.closeTo(v, 5)));
    expect(stats.std[1]).toBe(1);
    const z = standardize(x, stats);
    for (const j of [0, 2]) {
      const col = [z[j]!, z[3 + j]!, z[6 + j]!];
      expect(col.reduce((a, b) => a + b, 0)).toBeCloseTo(0, 5);
      expect(col.reduce((a, b) => a + b * b, 0) / 3).toBeCloseTo(1, 5);
    }
    expect([z[1], z[4], z[7]]).toEqual([0, 0, 0]);
  });
});

describe('config', () => {
  it('rejects unknown keys by name, and --max-len', async () => {
    const file = join(dir, 'typo.json');
    await writeFile(file, JSON.stringify({widht: 8}));
    await expect(resolveFeatureClassifierConfig({data: '', out: '', configFile: file})).rejects.toThrow(
      /widht/,
    );
    await expect(
      resolveFeatureClassifierConfig({data: '', out: '', overrides: {maxLen: 8}}),
    ).rejects.toBeInstanceOf(ConfigError);
    expect((await resolveFeatureClassifierConfig({data: '', out: '', preset: 'tiny'})).width).toBe(16);
  });
});

describe('feature classifier on iris', () => {
  it('reaches ≥ 0.9 accuracy on a held-out split (dense MLP)', async () => {
    const report = await trainIris('dense');
    const result = (await evaluateRun({model: join(dir, 'dense'), data: testFile})) as {accuracy: number};
    console.log(
      `iris held-out (30 rows): dense MLP accuracy ${result.accuracy.toFixed(3)}, ${report.parameters} parameters, ${report.steps} steps in ${report.seconds.toFixed(1)} s`,
    );
    expect(result.accuracy).toBeGreaterThanOrEqual(0.9);
    const config = JSON.parse(await readFile(join(dir, 'dense', 'config.json'), 'utf8'));
    expect(config.features.columns).toEqual(FEATURES);
  }, 60_000);

  it('with an MoE hidden layer: ≥ 0.9 held out, and save → load → the same predictions', async () => {
    const report = await trainIris('moe', MOE);
    const result = (await evaluateRun({model: join(dir, 'moe'), data: testFile})) as {accuracy: number};
    console.log(
      `iris held-out (30 rows): MoE-MLP accuracy ${result.accuracy.toFixed(3)}, ${report.parameters} parameters`,
    );
    expect(result.accuracy).toBeGreaterThanOrEqual(0.9);
    const run = asFeatureClassifierRun(await loadRun(join(dir, 'moe')));
    const rows = await readFeatureRows(testFile, {features: FEATURES, labelField: 'species'});
    try {
      const before = await classifyFeatures(run, rows.x);
      await saveLayersModel(run.model, join(dir, 'moe-copy'));
      const copy = await loadLayersModel(join(dir, 'moe-copy'));
      const after = await classifyFeatures({...run, model: copy}, rows.x);
      copy.dispose();
      for (let i = 0; i < before.length; i++) expect(after[i]!).toBeCloseTo(before[i]!, 6);
    } finally {
      run.model.dispose();
    }
  }, 60_000);

  it('stopped at step 10 and resumed ends where a straight 20-step run ends', async () => {
    const base = {
      data: trainFile,
      features: FEATURES,
      labelField: 'species',
      batchSize: 16,
      steps: 20,
      checkpointEvery: 5,
      seed: 5,
    };
    const straight = await trainFeatureClassifier({...base, out: join(dir, 'straight')});
    const stop = new AbortController();
    await trainFeatureClassifier({
      ...base,
      out: join(dir, 'resumed'),
      signal: stop.signal,
      onStep: (e) => {
        if (e.step >= 10) stop.abort();
      },
    }).catch(() => undefined);
    const resumed = await trainFeatureClassifier({...base, out: join(dir, 'resumed'), resume: true});
    expect(resumed.resumed_from).toBe(10);
    expect(resumed.final_loss).toBeCloseTo(straight.final_loss, 6);
  }, 60_000);

  it('predicting leaks no tensors, and batch size does not change the answer', async () => {
    const config = {...DEFAULT_FEATURE_CLASSIFIER_CONFIG, ...MOE};
    const model = withSeededRandom(1, () => buildFeatureClassifier(config, 4, 3));
    const rows = await readFeatureRows(testFile, {features: FEATURES, labelField: 'species'});
    const run = {
      dir,
      model,
      labels: ['a', 'b', 'c'],
      config,
      stats: fitFeatureStats(FEATURES, rows.x),
      labelField: 'species',
    };
    await classifyFeatures(run, rows.x, 7);
    const live = tf.memory().numTensors;
    const small = await classifyFeatures(run, rows.x, 7);
    const whole = await classifyFeatures(run, rows.x, 64);
    expect(tf.memory().numTensors).toBe(live);
    for (let i = 0; i < small.length; i++) expect(small[i]!).toBeCloseTo(whole[i]!, 5);
    model.dispose();
  });
});
