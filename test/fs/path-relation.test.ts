import {linkSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {assertOutsideInputs, pathRelation} from '../../src/fs/path-relation.js';

const dir = mkdtempSync(join(tmpdir(), 'dsk-relation-'));
const run = join(dir, 'runs', 'base');
mkdirSync(join(run, 'model'), {recursive: true});
writeFileSync(join(run, 'data.jsonl'), '{}\n');
symlinkSync(run, join(dir, 'alias'));
linkSync(join(run, 'data.jsonl'), join(dir, 'hard.jsonl'));

describe('pathRelation', () => {
  it('same, inside, contains and unrelated, by path', async () => {
    expect(await pathRelation(run, `${run}/`)).toBe('same');
    expect(await pathRelation(join(run, 'model'), run)).toBe('inside');
    expect(await pathRelation(run, join(run, 'data.jsonl'))).toBe('contains');
    expect(await pathRelation(join(dir, 'runs', 'other'), run)).toBe('unrelated');
    // A common prefix is not containment.
    expect(await pathRelation(`${run}-2`, run)).toBe('unrelated');
  });

  it('follows symbolic links, also for outputs that do not exist yet', async () => {
    expect(await pathRelation(join(dir, 'alias'), run)).toBe('same');
    expect(await pathRelation(join(dir, 'alias', 'new', 'out'), run)).toBe('inside');
    expect(await pathRelation(join(dir, 'runs'), join(dir, 'alias', 'data.jsonl'))).toBe('contains');
  });

  it('another hard link to the same file is the same file', async () => {
    expect(await pathRelation(join(dir, 'hard.jsonl'), join(run, 'data.jsonl'))).toBe('same');
  });

  it('assertOutsideInputs names the input and how the output relates to it', async () => {
    await expect(assertOutsideInputs(run, [run], '--out')).rejects.toThrow(
      /overwrite the input .*base with --out/,
    );
    await expect(assertOutsideInputs(dir, [join(run, 'data.jsonl')])).rejects.toThrow(/it holds the input/);
    await expect(assertOutsideInputs(join(run, 'x'), [run])).rejects.toThrow(/it is inside the input/);
    await expect(assertOutsideInputs(join(dir, 'elsewhere'), [run])).resolves.toBeUndefined();
  });
});
