import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {loadModelFolder} from '../../src/compress/model-folder.js';
import {ConfigError, DatasetError, ModelError} from '../../src/errors.js';
import {asLanguageModelRun} from '../../src/models/causal-lm/causal-lm-run.js';
import {classifyFeatures} from '../../src/models/feature-classifier/feature-classifier.js';
import {asFeatureClassifierRun} from '../../src/models/feature-classifier/feature-classifier-run.js';
import {classifyTexts} from '../../src/models/text-classifier/classifier.js';
import {asClassifierRun} from '../../src/models/text-classifier/classifier-run.js';
import type {LoadedRun} from '../../src/run/run-folder.js';
import {
  type FeatureClassifier,
  type LanguageModel,
  loadModel,
  parseExportMetadata,
  type TextClassifier,
} from '../../src/runtime/index.js';
import {generate} from '../../src/workflows/generate.js';
import {AWKWARD_TEXTS} from './awkward-texts.js';
import {fixtureTexts} from './fixture-texts.js';
import {type Served, serveFolder} from './serve-folder.js';
import {exportTinyRun, storedMetadata, TINY_RUNS, trainTinyRuns} from './tiny-exports.js';

/** The runtime's loadModel over HTTP in Node, against the kit's own predict and generate. */
describe('runtime loadModel', () => {
  let dir: string;
  let served: Served;
  const runs: Record<string, LoadedRun> = {};
  const url = (name: string) => `${served.base}/exports/${name}/model.json`;

  beforeAll(async () => {
    await initBackend();
    dir = await mkdtemp(join(tmpdir(), 'dsk-runtime-model-'));
    await trainTinyRuns(dir);
    for (const name of Object.values(TINY_RUNS)) {
      runs[name] = await exportTinyRun(join(dir, name), join(dir, 'exports', name));
    }
    await exportTinyRun(join(dir, TINY_RUNS.text), join(dir, 'exports', 'text-int8'), 'int8');
    served = await serveFolder(dir);
  });

  afterAll(async () => {
    for (const run of Object.values(runs)) run.model.dispose();
    await served?.close();
    await rm(dir, {recursive: true, force: true});
  });

  it('classifies texts as the kit does: same labels, probabilities within 1e-5 (fp32) and 1e-4 (int8)', async () => {
    const texts = [...AWKWARD_TEXTS, ...(await fixtureTexts()).slice(0, 40)];
    const run = asClassifierRun(runs[TINY_RUNS.text]!);
    const int8 = await loadModelFolder(join(dir, 'exports', 'text-int8'));
    for (const [name, model, tolerance] of [
      ['text', run.model, 1e-5],
      ['text-int8', int8, 1e-4],
    ] as const) {
      const expected = await classifyTexts({...run, model}, texts);
      const classifier = (await loadModel(url(name))) as TextClassifier;
      expect(classifier.kind).toBe('text-classifier');
      const got = await classifier.classify(texts, {batchSize: 16});
      const k = run.labels.length;
      got.forEach((row, i) => {
        const want = run.labels.map((_, c) => expected[i * k + c]!);
        expect(Object.keys(row.probabilities)).toEqual(run.labels);
        const diff = Math.max(...run.labels.map((l, c) => Math.abs(row.probabilities[l]! - want[c]!)));
        expect(diff).toBeLessThan(tolerance);
        expect(row.label).toBe(run.labels[want.indexOf(Math.max(...want))]);
      });
      classifier.dispose();
    }
    int8.dispose();
  });

  it('predicts numeric rows as the kit does, standardized by the exported mean and std', async () => {
    const run = asFeatureClassifierRun(runs[TINY_RUNS.iris]!);
    const lines = (await readFile('fixtures/tabular/iris.csv', 'utf8')).trim().split('\n');
    const header = lines[0]!.split(',');
    const rows = lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, j) => [header[j]!, v])));
    const x = Float32Array.from(rows.flatMap((r) => run.stats.columns.map((c) => Number(r[c]))));
    const expected = await classifyFeatures(run, x);
    const model = (await loadModel(url(TINY_RUNS.iris))) as FeatureClassifier;
    expect(model.kind).toBe('feature-classifier');
    const byName = await model.predict(rows);
    const byOrder = await model.predict(rows.map((r) => run.stats.columns.map((c) => Number(r[c]))));
    const k = run.labels.length;
    byName.forEach((row, i) => {
      run.labels.forEach((label, c) => {
        expect(row.probabilities[label]).toBeCloseTo(expected[i * k + c]!, 5);
      });
      expect(byOrder[i]).toEqual(row);
    });
    // The trained model separates the classes: raw rows are standardized, not fed as they are.
    const correct = byName.filter((row, i) => row.label === rows[i]!.species).length;
    expect(correct / rows.length).toBeGreaterThan(0.6);
    await expect(model.predict([{sepal_length: 5}])).rejects.toThrow(DatasetError);
    await expect(model.predict([{...rows[0], petal_width: 'wide'}])).rejects.toThrow(
      /row 0: "petal_width" is "wide", not a number/,
    );
    model.dispose();
  });

  for (const name of [TINY_RUNS.lm, TINY_RUNS.lmLearned]) {
    it(`${name}: generates the kit's tokens, greedy and sampled with a seed`, async () => {
      const run = asLanguageModelRun(runs[name]!);
      const lm = (await loadModel(url(name))) as LanguageModel;
      expect(lm.kind).toBe('causal-lm');
      const cases = [
        {prompt: 'Call me Ishmael.', options: {temperature: 0, maxTokens: 24}},
        {prompt: 'The whale', options: {temperature: 0.9, topK: 20, topP: 0.9, seed: 7, maxTokens: 24}},
        {prompt: '', options: {temperature: 1, seed: 3, maxTokens: 12}},
        {prompt: 'Émoji 🐋 and 鲸', options: {temperature: 1.2, seed: 5, maxTokens: 40}},
      ];
      for (const {prompt, options} of cases) {
        const node = await generate(run, prompt, options);
        const pieces: string[] = [];
        const got = await lm.generate(prompt, {...options, onToken: (text) => pieces.push(text)});
        expect(got.ids).toEqual(node.ids);
        expect(got.text).toBe(node.text);
        expect(got.stoppedBy).toBe(node.stopped_by);
        expect(got.promptTokens).toBe(node.prompt_tokens);
        expect(pieces.join('')).toBe(got.text);
        if (options.temperature === 0) expect(got.ids.length).toBe(24);
      }
      lm.dispose();
    });
  }

  it('stops at a stop string, at the context length, and refuses a prompt that fills the context', async () => {
    const run = asLanguageModelRun(runs[TINY_RUNS.lm]!);
    const lm = (await loadModel(url(TINY_RUNS.lm))) as LanguageModel;
    const free = await lm.generate('Call me', {temperature: 1, seed: 1, maxTokens: 30});
    const stop = free.text.slice(10, 12);
    const node = await generate(run, 'Call me', {temperature: 1, seed: 1, maxTokens: 30, stop: [stop]});
    const pieces: string[] = [];
    const got = await lm.generate('Call me', {
      temperature: 1,
      seed: 1,
      maxTokens: 30,
      stop: [stop],
      onToken: (t) => pieces.push(t),
    });
    expect(got.stoppedBy).toBe('stop');
    expect(got.text).toBe(node.text);
    expect(got.text).toBe(free.text.slice(0, free.text.indexOf(stop)));
    expect(pieces.join('')).toBe(got.text);
    const long = await lm.generate('a', {temperature: 1, maxTokens: 500});
    expect(long.stoppedBy).toBe('context');
    expect(long.promptTokens + long.ids.length).toBe(48);
    await expect(lm.generate('word '.repeat(100))).rejects.toThrow(ConfigError);
    await expect(lm.generate('x', {topP: 2})).rejects.toThrow(/top-p must be in \(0, 1\]/);
    lm.dispose();
  });

  it('reads the metadata from model.json or the options, and names what is wrong with it', async () => {
    const modelJson = join(dir, 'exports', TINY_RUNS.iris, 'model.json');
    const json = JSON.parse(await readFile(modelJson, 'utf8'));
    const metadata = json.userDefinedMetadata.deepseek_kit.model;
    delete json.userDefinedMetadata.deepseek_kit.model;
    await writeFile(modelJson, JSON.stringify(json));
    await expect(loadModel(url(TINY_RUNS.iris))).rejects.toThrow(
      /model\.json: deepseek-kit metadata is missing .*pass the metadata to loadModel/,
    );
    const model = await loadModel(url(TINY_RUNS.iris), {metadata});
    expect(model.kind).toBe('feature-classifier');
    model.dispose();

    const good = await storedMetadata(join(dir, 'exports', TINY_RUNS.text));
    const bad = (change: object) => () => parseExportMetadata({...good, ...change}, 'x/model.json');
    expect(bad({})).not.toThrow();
    expect(bad({kind: 'regressor'})).toThrow(
      /"kind" must be one of text-classifier, feature-classifier, causal-lm/,
    );
    expect(bad({maxLen: 0})).toThrow(
      /x\/model\.json: deepseek-kit metadata "maxLen" must be a whole number ≥ 1, got 0/,
    );
    expect(bad({labels: []})).toThrow(/"labels" must be a non-empty list/);
    expect(bad({specialTokens: {pad: 99_999}})).toThrow(/"specialTokens.pad" must be an id below vocabSize/);
    expect(bad({tokenizer: {file: 'tokenizer.json', kind: 'sentencepiece'}})).toThrow(/"tokenizer.kind"/);
    expect(bad({maxLne: 8})).toThrow(/unknown field "maxLne"/);
    expect(bad({output: 'probabilities'})).toThrow(ModelError);
    const iris = metadata;
    expect(() =>
      parseExportMetadata(
        {...iris, features: {...(iris as {features: object}).features, std: [1, 0, 1, 1]}},
        'm',
      ),
    ).toThrow(/"features.std" must be 4 numbers above 0/);
  });
});
