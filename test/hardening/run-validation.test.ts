import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {ModelError} from '../../src/errors.js';
import {openRun} from '../../src/models/registry.js';
import {runCli} from '../helpers/cli.js';
import {tinyRun} from './tiny-run.js';

// Section 3 of issue 17: a run folder's files checked against each other, once, at load.
let root: string;

beforeAll(async () => {
  await initBackend();
  root = await mkdtemp(join(tmpdir(), 'dsk-validate-'));
});
afterAll(() => rm(root, {recursive: true, force: true}));

async function editJson(path: string, edit: (json: Record<string, unknown>) => unknown): Promise<void> {
  const json = JSON.parse(await readFile(path, 'utf8'));
  await writeFile(path, JSON.stringify(edit(json) ?? json));
}

async function refusal(dir: string): Promise<Error> {
  const before = tf.memory().numTensors;
  const err = await openRun(dir).then(
    ({run}) => {
      run.model.dispose();
      return new Error('loaded');
    },
    (e: Error) => e,
  );
  expect(tf.memory().numTensors).toBe(before);
  expect(err).toBeInstanceOf(ModelError);
  return err;
}

/** The parts of model.json the cases edit. */
interface ModelJson {
  modelTopology: {config: {layers: {config: Record<string, unknown>}[]}};
  weightsManifest: {weights: {shape: unknown; dtype: string}[]}[];
}

let n = 0;
const fresh = () => tinyRun(root, `run-${n++}`);

describe('run folder validation at load', () => {
  it('refuses labels.json with more or fewer labels than the head has outputs', async () => {
    for (const labels of [['neg', 'pos', 'meh'], ['neg']]) {
      const dir = await fresh();
      await writeFile(join(dir, 'labels.json'), JSON.stringify(labels));
      expect((await refusal(dir)).message).toMatch(
        new RegExp(`labels\\.json: ${labels.length} labels, but the model's head has 2 outputs`),
      );
    }
  });

  it('refuses config.json maxLen that is huge, negative, a string or missing, and a config without model', async () => {
    for (const [maxLen, pattern] of [
      [1e9, /config\.json: model\.maxLen must be a whole number from 1 to 1048576, got 1000000000/],
      [-5, /config\.json: model\.maxLen must be a whole number.*got -5/],
      ['128', /config\.json: model\.maxLen must be a whole number.*got "128"/],
      [undefined, /config\.json: model\.maxLen is missing/],
      [4, /config\.json: model\.maxLen is 4, but the model in model\/ reads 8 tokens/],
    ] as const) {
      const dir = await fresh();
      await editJson(join(dir, 'config.json'), (c) => {
        (c.model as Record<string, unknown>).maxLen = maxLen;
      });
      expect((await refusal(dir)).message, String(maxLen)).toMatch(pattern);
    }
    const dir = await fresh();
    await editJson(join(dir, 'config.json'), (c) => {
      delete c.model;
    });
    expect((await refusal(dir)).message).toMatch(/config\.json: "model" is missing/);
    await editJson(join(dir, 'config.json'), (c) => ({...c, model: {contextLength: -1}}));
    expect((await refusal(dir)).message).toMatch(/config\.json: model\.contextLength must be a whole number/);
  });

  it('refuses task "lm" written over a classifier', async () => {
    const dir = await fresh();
    await editJson(join(dir, 'config.json'), (c) => ({
      ...c,
      task: 'lm',
      model: {...(c.model as object), contextLength: 8},
    }));
    expect((await refusal(dir)).message).toMatch(
      /config\.json: task "lm" is a causal-lm run, but the model in model\/ is a classifier/,
    );
  });

  it('refuses a tokenizer with more ids than the embedding has rows, and one without [UNK]', async () => {
    const dir = await fresh();
    // 60 more pieces than the model's 40 embedding rows.
    await editJson(join(dir, 'tokenizer.json'), (t) => {
      const vocab = (t.model as {vocab: Record<string, number>}).vocab;
      for (let i = 0; i < 60; i++) vocab[`extra${i}`] = 40 + i;
    });
    expect((await refusal(dir)).message).toMatch(
      /tokenizer\.json: the tokenizer has 100 ids, but the model's embedding has 40 rows/,
    );
    await editJson(join(dir, 'tokenizer.json'), (t) => {
      (t.model as Record<string, unknown>).vocab = {};
    });
    expect((await refusal(dir)).message).toMatch(/tokenizer\.json: model\.vocab has no \[UNK\]/);
  });

  it('refuses a manifest that asks for more than the shards hold, before allocating', async () => {
    const edits: [string, (j: ModelJson) => void, RegExp][] = [
      [
        'shape "big"',
        (j) => (j.weightsManifest[0].weights[0].shape = 'big'),
        /"shape" must be a list of whole numbers/,
      ],
      [
        'shape 1e5 rows',
        (j) => (j.weightsManifest[0].weights[0].shape = [100_000, 8]),
        /shards hold \d+ bytes but model\.json needs/,
      ],
      [
        'input [null, 1e7]',
        (j) => (j.modelTopology.config.layers[0].config.batch_input_shape = [null, 1e7]),
        /batch_input_shape\[1\] is 10000000, larger than/,
      ],
      [
        'vocab_size 1e8',
        (j) => (j.modelTopology.config.layers[1].config.vocab_size = 1e8),
        /vocab_size is 100000000/,
      ],
      [
        'vocab_size 60000',
        (j) => (j.modelTopology.config.layers[1].config.vocab_size = 60_000),
        /ask for a weight .*of shape \[60000, 8\], more than the manifest/,
      ],
      [
        'dtype',
        (j) => (j.weightsManifest[0].weights[0].dtype = 'complex128'),
        /unknown dtype or encoding "complex128"/,
      ],
    ];
    for (const [what, edit, pattern] of edits) {
      const dir = await fresh();
      await editJson(join(dir, 'model', 'model.json'), (j) => {
        edit(j as unknown as ModelJson);
      });
      const before = process.memoryUsage().rss;
      expect((await refusal(dir)).message, what).toMatch(pattern);
      expect(process.memoryUsage().rss - before, what).toBeLessThan(200 * 1024 * 1024);
    }
  });

  it('exits 1 naming the file from the CLI (predict with more labels than outputs)', async () => {
    const dir = await fresh();
    await writeFile(join(dir, 'labels.json'), '["neg","pos","meh"]');
    const r = runCli(['predict', '--model', dir], {input: '{"text": "good"}\n'});
    expect(r.stderr).toMatch(/labels\.json: 3 labels, but the model's head has 2 outputs/);
    expect(r.code).toBe(1);
  });
});
