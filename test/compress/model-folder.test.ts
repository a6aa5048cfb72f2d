import {execFileSync} from 'node:child_process';
import {mkdir, mkdtemp, readFile, rm, symlink, truncate, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {exportModel} from '../../src/compress/export.js';
import {loadModelFolder} from '../../src/compress/model-folder.js';
import {ModelError} from '../../src/errors.js';
import {kitClassifier} from './kit-model.js';

let root: string;
let good: string;

beforeAll(async () => {
  await initBackend();
  root = await mkdtemp(join(tmpdir(), 'dsk-folder-'));
  good = join(root, 'good');
  const model = kitClassifier('dense');
  await exportModel(model, good, {dtype: 'int8'});
  model.dispose();
});

afterAll(async () => {
  await rm(root, {recursive: true, force: true});
});

/** A copy of the good export whose model.json is edited by `edit`. */
async function variant(
  name: string,
  edit: (json: {weightsManifest: {paths: string[]}[]}) => void,
): Promise<string> {
  const dir = join(root, name, 'model');
  await mkdir(dir, {recursive: true});
  execFileSync('cp', ['-r', `${good}/.`, dir]);
  const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
  edit(json);
  await writeFile(join(dir, 'model.json'), JSON.stringify(json));
  return dir;
}

describe('loading a model folder', () => {
  it('loads a good export, int8 weights decoded', async () => {
    const model = await loadModelFolder(good);
    expect(model.layers.map((l) => l.getClassName())).toContain('DecoderBlock');
    model.dispose();
  });

  it('refuses a weight path out of the folder without reading it', async () => {
    // The target is a named pipe: opening it to read would hang the test, so an error here proves
    // the loader never touched it.
    execFileSync('mkfifo', [join(root, 'outside.bin')]);
    for (const bad of ['../../outside.bin', '../outside.bin', '/etc/passwd', 'file:///etc/passwd']) {
      const dir = await variant(`escape-${bad.length}`, (j) => {
        j.weightsManifest[0]!.paths = [bad];
      });
      const err = await loadModelFolder(dir).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModelError);
      expect((err as Error).message).toMatch(/points outside the model folder/);
    }
  });

  it('refuses a shard that is a symlink out of the folder', async () => {
    const dir = await variant('symlink', () => {});
    const shard = join(dir, 'group1-shard1of1.bin');
    await rm(shard);
    await symlink(join(root, 'outside.bin'), shard);
    const err = await loadModelFolder(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as Error).message).toMatch(/outside the model folder/);
  });

  it('names a missing shard, a truncated one, and bad JSON', async () => {
    const missing = await variant('missing', () => {});
    await rm(join(missing, 'group1-shard1of1.bin'));
    await expect(loadModelFolder(missing)).rejects.toThrow(
      /missing weight shard .*group1-shard1of1\.bin.*ENOENT/,
    );

    const short = await variant('short', () => {});
    await truncate(join(short, 'group1-shard1of1.bin'), 100);
    await expect(loadModelFolder(short)).rejects.toThrow(/shards hold 100 bytes but model.json needs \d+/);

    const broken = await variant('broken', () => {});
    await writeFile(join(broken, 'model.json'), '{"modelTopology": {');
    const err = await loadModelFolder(broken).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as Error).message).toMatch(/model\.json is not valid JSON/);

    await expect(loadModelFolder(join(root, 'nowhere'))).rejects.toThrow(/cannot read .*model\.json: ENOENT/);
  });

  it('leaks no tensors loading and disposing', async () => {
    const before = tf.memory().numTensors;
    (await loadModelFolder(good)).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
