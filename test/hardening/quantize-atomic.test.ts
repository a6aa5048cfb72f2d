import {mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {quantizeRun} from '../../src/workflows/quantize.js';
import {tinyRun} from './tiny-run.js';

let root: string;

beforeAll(async () => {
  await initBackend();
  root = await mkdtemp(join(tmpdir(), 'dsk-quantize-atomic-'));
});
afterAll(() => rm(root, {recursive: true, force: true}));

describe('quantize writes its run folder whole or not at all', () => {
  it('a failure after the weights are written leaves the old --out as it was and no temporary folder', async () => {
    const run = await tinyRun(root, 'run');
    const out = join(root, 'out');
    await quantizeRun({model: run, out, dtype: 'int8'});
    await writeFile(join(out, 'marker'), 'old');
    const bad = join(root, 'missing.jsonl');
    await expect(quantizeRun({model: run, out, dtype: 'int4', eval: bad, overwrite: true})).rejects.toThrow(
      /missing\.jsonl/,
    );
    expect(await readFile(join(out, 'marker'), 'utf8')).toBe('old');
    expect((await readdir(root)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await quantizeRun({model: run, out, dtype: 'int4', overwrite: true});
    expect((await readdir(out)).sort()).toEqual(['config.json', 'labels.json', 'model', 'tokenizer.json']);
  });
});
