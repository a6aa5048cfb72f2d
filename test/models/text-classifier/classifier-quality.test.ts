import {mkdtemp, readFile, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../../src/backend/backend.js';
import type {ClassifierEvaluation} from '../../../src/models/model-kind.js';
import {trainClassifier} from '../../../src/models/text-classifier/classifier-train.js';
import {evaluateRun} from '../../../src/workflows/evaluate.js';
import {bowLogisticAccuracy} from './bow-logistic.js';

let dir: string;
const TRAIN = 'fixtures/imdb/reviews.jsonl';
const TEST = 'fixtures/imdb/test.jsonl';
const readRows = async (path: string) =>
  (await readFile(path, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as {text: string; label: string});

beforeAll(async () => {
  await initBackend();
  dir = await mkdtemp(join(tmpdir(), 'dsk-quality-'));
});
afterAll(() => rm(dir, {recursive: true, force: true}));

describe('classifier quality on the IMDB fixture', () => {
  it('beats bag-of-words logistic regression on the held-out test reviews', async () => {
    // The baseline trains on all 2,000 reviews; the classifier on 90% of them (10% for early stopping).
    const baseline = bowLogisticAccuracy(await readRows(TRAIN), await readRows(TEST));
    const started = performance.now();
    const out = join(dir, 'imdb');
    await trainClassifier({
      data: TRAIN,
      out,
      preset: 'bag',
      epochs: 10,
      lr: 3e-3,
      weightDecay: 0.01,
      patience: 2,
      batchSize: 32,
    });
    const seconds = (performance.now() - started) / 1000;
    const result = (await evaluateRun({model: out, data: TEST})) as ClassifierEvaluation;
    console.log(
      `IMDB test accuracy: classifier ${result.accuracy.toFixed(3)} (macro-F1 ${result.macro_f1.toFixed(3)}, trained in ${seconds.toFixed(1)} s) vs bag-of-words logistic regression ${baseline.toFixed(3)}`,
    );
    expect(baseline).toBeGreaterThan(0.8); // a real baseline, not a strawman
    expect(result.examples).toBe(1000);
    expect(result.accuracy).toBeGreaterThan(baseline);
  }, 120_000);
});
