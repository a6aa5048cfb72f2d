import {spawnSync} from 'node:child_process';
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {OutputFolder, writeOutputFolder} from '../../src/fs/output-folder.js';

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

describe('writeOutputFolder', () => {
  const hidden = (parent: string) => readdirSync(parent).filter((f) => f.startsWith('.'));

  it('a job that throws leaves no folder and no temporary folder', async () => {
    const parent = mkdtempSync(join(dir, 'throws-'));
    const out = join(parent, 'export');
    await expect(
      writeOutputFolder(out, {}, async (tmp) => {
        writeFileSync(join(tmp, 'model.json'), '{}');
        throw new Error('job failed');
      }),
    ).rejects.toThrow('job failed');
    expect(readdirSync(parent)).toEqual([]);
  });

  it('refuses a folder with files without overwrite, before the job runs', async () => {
    const out = mkdtempSync(join(dir, 'taken-'));
    writeFileSync(join(out, 'old.txt'), 'old');
    let ran = false;
    await expect(
      writeOutputFolder(out, {flag: '--out-model'}, async () => {
        ran = true;
      }),
    ).rejects.toThrow(`--out-model ${out} already holds files — pass --overwrite to replace it`);
    expect(ran).toBe(false);
    expect(readdirSync(out)).toEqual(['old.txt']);
  });

  it('with overwrite the old folder stays whole until the job returns, then the new one replaces it', async () => {
    const parent = mkdtempSync(join(dir, 'replace-'));
    const out = join(parent, 'run');
    mkdirSync(out);
    writeFileSync(join(out, 'old.txt'), 'old');
    const result = await writeOutputFolder(out, {overwrite: true}, async (tmp) => {
      writeFileSync(join(tmp, 'new.txt'), 'new');
      expect(readdirSync(out)).toEqual(['old.txt']);
      return 42;
    });
    expect(result).toBe(42);
    expect(readdirSync(out)).toEqual(['new.txt']);
    expect(hidden(parent)).toEqual([]);
    // A failing job with overwrite: the old folder is untouched.
    await expect(
      writeOutputFolder(out, {overwrite: true}, async () => {
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    expect(readFileSync(join(out, 'new.txt'), 'utf8')).toBe('new');
    expect(hidden(parent)).toEqual([]);
  });
});

describe('after a writer killed outright (kill -9)', () => {
  it('its temporary folder goes, and an old folder caught between the renames of commit goes back', async () => {
    const parent = mkdtempSync(join(dir, 'killed-'));
    const out = join(parent, 'export');
    // What a writer with pid `dead` leaves when killed inside commit(): the old folder renamed
    // aside, the finished new one not yet renamed in.
    const dead = spawnSync('true').pid!;
    mkdirSync(join(parent, `.export.${dead}-0000abcd.tmp.old`));
    writeFileSync(join(parent, `.export.${dead}-0000abcd.tmp.old`, 'old.txt'), 'old');
    mkdirSync(join(parent, `.export.${dead}-0000abcd.tmp`));
    // A live writer's temporary folder (the test runner's parent) is not ours to touch.
    const live = `.export.${process.ppid}-0000beef.tmp`;
    mkdirSync(join(parent, live));
    await expect(writeOutputFolder(out, {}, async () => undefined)).rejects.toThrow(/already holds files/);
    expect(readFileSync(join(out, 'old.txt'), 'utf8')).toBe('old');
    expect(readdirSync(parent).sort()).toEqual([live, 'export']);
  });
});
