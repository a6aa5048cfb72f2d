import {cp, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {exportModel} from '../../src/compress/export.js';
import {loadLayersModel} from '../../src/runtime/index.js';
import {kitClassifier, maxDiff, predictRows, sampleIds} from '../compress/kit-model.js';
import {type Served, serveFolder} from './serve-folder.js';

/** The runtime's loader over HTTP in Node (the browser test covers Chromium). */
describe('runtime loadLayersModel', () => {
  let root: string;
  let served: Served;
  let base: string;
  let requested: string[];

  beforeAll(async () => {
    await initBackend();
    root = await mkdtemp(join(tmpdir(), 'dsk-runtime-'));
    served = await serveFolder(root);
    ({base, requested} = served);
  });

  afterAll(async () => {
    await served?.close();
    await rm(root, {recursive: true, force: true});
  });

  it('decodes int4 and int8 exports to the predictions the kit computes', async () => {
    const model = kitClassifier('moe');
    const ids = sampleIds(5);
    for (const dtype of ['int8', 'int4', 'float16'] as const) {
      await exportModel(model, join(root, dtype), {dtype, groupSize: dtype === 'int4' ? 8 : 0});
      const loaded = await loadLayersModel(`${base}/${dtype}/model.json`);
      expect(maxDiff(predictRows(loaded, ids), predictRows(model, ids))).toBeLessThan(
        dtype === 'int4' ? 1 : 0.1,
      );
      loaded.dispose();
    }
    model.dispose();
  });

  it('requests nothing outside the model folder', async () => {
    await cp(join(root, 'int8'), join(root, 'evil'), {recursive: true});
    const json = JSON.parse(await readFile(join(root, 'evil', 'model.json'), 'utf8'));
    const attempt = async (path: string) => {
      json.weightsManifest[0].paths = [path];
      await writeFile(join(root, 'evil', 'model.json'), JSON.stringify(json));
      requested.length = 0;
      return loadLayersModel(`${base}/evil/model.json`).catch((e: Error) => e.message);
    };
    expect(await attempt('../int8/group1-shard1of1.bin')).toMatch(
      /int8\/group1-shard1of1\.bin is outside the model folder/,
    );
    expect(requested).toEqual(['/evil/model.json']);
    // tfjs puts the folder's URL before every weight path, so an absolute URL stays in the folder.
    expect(await attempt('http://example.invalid/x.bin')).toMatch(/cannot load .*\/evil\/http.*: HTTP 404/);
    expect(requested.every((p) => p.startsWith('/evil/'))).toBe(true);
  });
});
