import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {OutputFolder} from '../../src/fs/output-folder.js';

const dir = mkdtempSync(join(tmpdir(), 'dsk-output-folder-'));

describe('OutputFolder', () => {
  it('appears whole on commit; abort leaves nothing', async () => {
    const out = await OutputFolder.create(join(dir, 'export'));
    writeFileSync(join(out.temp, 'model.json'), '{}');
    expect(existsSync(join(dir, 'export'))).toBe(false);
    await out.commit();
    expect(readdirSync(join(dir, 'export'))).toEqual(['model.json']);
    const aborted = await OutputFolder.create(join(dir, 'never'));
    writeFileSync(join(aborted.temp, 'x'), '');
    await aborted.abort();
    expect(readdirSync(dir)).toEqual(['export']);
  });

  it('refuses a folder with files unless overwrite, which replaces it only once the new one is done', async () => {
    const path = join(dir, 'run');
    mkdirSync(path);
    writeFileSync(join(path, 'old.txt'), 'old');
    await expect(OutputFolder.create(path)).rejects.toThrow(/already holds files — pass --overwrite/);
    const out = await OutputFolder.create(path, {overwrite: true});
    expect(readFileSync(join(path, 'old.txt'), 'utf8')).toBe('old');
    writeFileSync(join(out.temp, 'new.txt'), 'new');
    await out.commit();
    expect(readdirSync(path)).toEqual(['new.txt']);
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('--overwrite never deletes an input: the same folder, one holding it, one inside it', async () => {
    const run = join(dir, 'base');
    mkdirSync(join(run, 'model'), {recursive: true});
    writeFileSync(join(run, 'data.jsonl'), '{}\n');
    for (const [out, inputs] of [
      [run, [run]],
      [dir, [join(run, 'data.jsonl')]],
      [join(run, 'model'), [run]],
    ] as const) {
      await expect(OutputFolder.create(out, {inputs, overwrite: true})).rejects.toThrow(/refusing to/);
    }
    expect(existsSync(join(run, 'data.jsonl'))).toBe(true);
  });
});
