import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {ConfigError, DatasetError, ModelError} from '../../src/errors.js';
import {CAUSAL_LM_PRESETS} from '../../src/models/causal-lm/causal-lm.js';
import {FEATURE_CLASSIFIER_PRESETS} from '../../src/models/feature-classifier/feature-classifier.js';
import {
  kindOf,
  kindToTrain,
  MODEL_KINDS,
  openRun,
  presetHelp,
  TRAIN_TASKS,
} from '../../src/models/registry.js';
import {CLASSIFIER_PRESETS} from '../../src/models/text-classifier/classifier.js';
import {trainRun} from '../../src/workflows/train.js';

const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
let dir: string;

beforeAll(async () => {
  await initBackend();
  dir = await mkdtemp(join(tmpdir(), 'dsk-registry-'));
});
afterAll(async () => {
  await rm(dir, {recursive: true, force: true});
});

describe('the model-kind registry', () => {
  it('picks the kind from a run config, and from train’s task and options', () => {
    expect(kindOf({task: 'classify'}).id).toBe('text-classifier');
    expect(kindOf({task: 'classify', features: {columns: ['a'], mean: [0], std: [1]}}).id).toBe(
      'feature-classifier',
    );
    expect(kindOf({task: 'lm'}).id).toBe('causal-lm');
    expect(() => kindOf({task: 'segment'}, 'runs/x')).toThrow(ModelError);
    expect(() => kindOf({task: 'segment'}, 'runs/x')).toThrow(/runs\/x is a "segment" run/);
    const base = {data: 'd', out: 'o'};
    expect(kindToTrain('classify', base).id).toBe('text-classifier');
    expect(kindToTrain('classify', {...base, features: ['a']}).id).toBe('feature-classifier');
    expect(kindToTrain('lm', base).id).toBe('causal-lm');
    expect(() => kindToTrain('segment', base)).toThrow(ConfigError);
    expect(TRAIN_TASKS).toEqual(['classify', 'lm']);
  });

  it('describes every preset of every kind, one line each', () => {
    const tables: Record<string, object> = {
      'text-classifier': CLASSIFIER_PRESETS,
      'feature-classifier': FEATURE_CLASSIFIER_PRESETS,
      'causal-lm': CAUSAL_LM_PRESETS,
    };
    for (const kind of MODEL_KINDS) {
      expect(Object.keys(kind.presets).sort()).toEqual(Object.keys(tables[kind.id]!).sort());
    }
    const help = presetHelp().split('\n');
    const total = MODEL_KINDS.reduce((n, k) => n + Object.keys(k.presets).length, 0);
    expect(help).toHaveLength(total + MODEL_KINDS.length);
    expect(help).toContain('text-classifier (--task classify):');
    expect(help.some((l) => l.startsWith('  moe-lm — '))).toBe(true);
  });

  it('opens a feature-classifier run: metadata for exports, batched classify on row objects', async () => {
    const out = join(dir, 'iris');
    await trainRun('classify', {
      data: 'fixtures/tabular/iris.csv',
      out,
      features: FEATURES,
      labelField: 'species',
      preset: 'tiny',
      steps: 20,
    });
    const {kind, run} = await openRun(out);
    try {
      expect(kind.id).toBe('feature-classifier');
      const meta = kind.metadata(run);
      expect(meta).toMatchObject({
        task: 'classify',
        output: 'class-logits',
        input: {name: 'features', dtype: 'float32', shape: [null, 4]},
        labels: ['setosa', 'versicolor', 'virginica'],
      });
      expect(meta.features?.columns).toEqual(FEATURES);
      expect(meta.features?.std).toHaveLength(4);
      const rows = [
        {sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2},
        {sepal_length: 6.3, sepal_width: 3.3, petal_length: 6, petal_width: 2.5},
      ];
      const probs = await kind.classify!(run, rows);
      expect(probs).toHaveLength(2 * 3);
      for (let i = 0; i < 2; i++)
        expect(probs[i * 3]! + probs[i * 3 + 1]! + probs[i * 3 + 2]!).toBeCloseTo(1, 5);
      await expect(kind.classify!(run, [{sepal_length: 5}])).rejects.toThrow(DatasetError);
      await expect(kind.classify!(run, [{sepal_length: 5}])).rejects.toThrow(/sepal_width/);
      expect(kind.decoder).toBeUndefined();
    } finally {
      run.model.dispose();
    }
  });

  it('opens a language-model run: metadata with context and special tokens, a step-wise decoder', async () => {
    const text = join(dir, 'text.txt');
    await writeFile(text, 'the whale and the sea and the ship. '.repeat(60));
    const out = join(dir, 'lm');
    await trainRun('lm', {
      data: text,
      out,
      preset: 'tiny',
      steps: 2,
      overrides: {tokenizerKind: 'byte', contextLength: 16},
    });
    const {kind, run} = await openRun(out);
    try {
      expect(kind.id).toBe('causal-lm');
      const meta = kind.metadata(run);
      expect(meta).toMatchObject({task: 'lm', output: 'token-logits', contextLength: 16});
      expect(meta.specialTokens?.eos).toBeTypeOf('number');
      expect(kind.classify).toBeUndefined();
      const before = tf.memory().numTensors;
      const decoder = kind.decoder!(run);
      const logits = decoder.step([104, 101]);
      expect(logits.shape).toEqual([meta.vocabSize]);
      logits.dispose();
      decoder.dispose();
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      run.model.dispose();
    }
  });
});
