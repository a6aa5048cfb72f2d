import {existsSync, readdirSync} from 'node:fs';
import {mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {quickstart} from '../../src/workflows/quickstart.js';

let root: string;
beforeAll(async () => {
  await initBackend();
  root = await mkdtemp(join(tmpdir(), 'dsk-tour-'));
});
afterAll(() => rm(root, {recursive: true, force: true}));

describe('quickstart --overwrite', () => {
  it('a tour that fails leaves the old tour folder as it was, with nothing beside it', async () => {
    const out = join(root, 'tour');
    await mkdir(out);
    await writeFile(join(out, 'old.txt'), 'the previous tour');
    // Too little text for one window of the language model: the tour fails in its training stage.
    const text = join(root, 'short.txt');
    await writeFile(text, 'Call me Ishmael.');
    await expect(quickstart({out, only: 'lm', text, overwrite: true, lmSteps: 2})).rejects.toThrow(/window/);
    expect(await readFile(join(out, 'old.txt'), 'utf8')).toBe('the previous tour');
    expect(existsSync(join(out, 'data'))).toBe(false);
    expect(readdirSync(root).filter((f) => f.startsWith('.tour'))).toEqual([]);
  }, 60_000);
});
