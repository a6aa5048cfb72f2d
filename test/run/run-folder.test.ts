import {mkdir, mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {ConfigError, ModelError} from '../../src/errors.js';
import {buildClassifier, DEFAULT_CLASSIFIER_CONFIG} from '../../src/models/text-classifier/classifier.js';
import {loadRun} from '../../src/run/load-run.js';
import {loadLayersModel, prepareRunFolder, saveLayersModel} from '../../src/run/run-folder.js';

let dir: string;
const config = {...DEFAULT_CLASSIFIER_CONFIG, maxLen: 8, dModel: 8, numHeads: 2, ffnHidden: 16, numLayers: 1};

beforeAll(async () => {
  await initBackend();
  dir = await mkdtemp(join(tmpdir(), 'dsk-run-'));
});
afterAll(() => rm(dir, {recursive: true, force: true}));

describe('run folders', () => {
  it('saves a model atomically and loads it back with the same predictions, without leaking tensors', async () => {
    const model = buildClassifier(config, 50, 3);
    const ids = tf.tensor2d([[5, 6, 7, 0, 0, 0, 0, 0]], [1, 8], 'int32');
    const before = await (model.predict(ids) as tf.Tensor).array();
    const modelDir = join(dir, 'saved', 'model');
    await saveLayersModel(model, modelDir);
    await saveLayersModel(model, modelDir); // replaces the previous copy
    expect((await readdir(join(dir, 'saved'))).sort()).toEqual(['model']);
    expect((await readdir(modelDir)).sort()).toEqual(['group1-shard1of1.bin', 'model.json']);
    const start = tf.memory().numTensors;
    const loaded = await loadLayersModel(modelDir);
    const out = loaded.predict(ids) as tf.Tensor;
    expect(await out.array()).toEqual(before);
    out.dispose();
    loaded.dispose();
    expect(tf.memory().numTensors).toBe(start);
    model.dispose();
    ids.dispose();
  });

  it('refuses weight paths outside the model folder, missing shards and bad JSON', async () => {
    const modelDir = join(dir, 'evil', 'model');
    await saveLayersModel(buildClassifier(config, 50, 2), modelDir);
    const json = JSON.parse(await readFile(join(modelDir, 'model.json'), 'utf8'));
    for (const bad of ['../../x.bin', '/etc/passwd', 'sub/../../escape.bin']) {
      json.weightsManifest[0].paths = [bad];
      await writeFile(join(modelDir, 'model.json'), JSON.stringify(json));
      await expect(loadLayersModel(modelDir)).rejects.toThrow(/points outside the model folder/);
    }
    json.weightsManifest[0].paths = ['gone.bin'];
    await writeFile(join(modelDir, 'model.json'), JSON.stringify(json));
    await expect(loadLayersModel(modelDir)).rejects.toThrow(/missing weight shard .*gone\.bin/);
    await writeFile(join(modelDir, 'model.json'), '{"modelTopology": ');
    await expect(loadLayersModel(modelDir)).rejects.toThrow(ModelError);
    await expect(loadRun(join(dir, 'nowhere'))).rejects.toThrow(/no run folder at/);
  });

  it('refuses a folder holding another run unless overwrite or a matching resume', async () => {
    const out = join(dir, 'run');
    await prepareRunFolder(out, {task: 'classify', model: {dModel: 8}});
    await expect(prepareRunFolder(out, {task: 'classify', model: {dModel: 8}})).rejects.toThrow(
      /already holds another run.*--resume.*--overwrite/,
    );
    await expect(
      prepareRunFolder(out, {task: 'classify', model: {dModel: 16}}, {resume: true}),
    ).rejects.toThrow(ConfigError);
    await expect(
      prepareRunFolder(out, {task: 'classify', model: {dModel: 16}}, {resume: true}),
    ).rejects.toThrow(/model\.dModel differs/);
    await prepareRunFolder(out, {task: 'classify', model: {dModel: 8}}, {resume: true});
    await mkdir(join(out, 'checkpoints'));
    await prepareRunFolder(out, {task: 'classify', model: {dModel: 16}}, {overwrite: true});
    expect(await readdir(out)).toEqual(['config.json']);
    expect(JSON.parse(await readFile(join(out, 'config.json'), 'utf8')).model.dModel).toBe(16);
  });
});
