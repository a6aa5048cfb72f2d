import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {runCli} from '../helpers/cli.js';

const TRAIN = 'fixtures/imdb/reviews.jsonl';
const TEST = 'fixtures/imdb/test.jsonl';
const unwrap = (text: string) => text.replace(/\s*\n\s*›\s*/g, ' ');

describe('deepseek-kit merge', () => {
  let root: string;
  const train = (out: string, config: string) =>
    runCli(['train', '--data', TRAIN, '--out', out, '--config', config, '--steps', '4']);

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'dsk-merge-cli-'));
    const shape = (dModel: number) => ({maxLen: 32, dModel, numHeads: 2, ffnHidden: 32, numLayers: 1});
    await writeFile(join(root, 'a.json'), JSON.stringify(shape(16)));
    await writeFile(join(root, 'b.json'), JSON.stringify(shape(24)));
    for (const [name, config] of [
      ['base', 'a.json'],
      ['wide', 'b.json'],
    ]) {
      const r = train(join(root, name!), join(root, config!));
      expect(r.code, r.stderr).toBe(0);
    }
    const ft = runCli([
      'finetune',
      '--model',
      join(root, 'base'),
      '--data',
      TEST,
      '--out',
      join(root, 'ft'),
      '--steps',
      '3',
    ]);
    expect(ft.code, ft.stderr).toBe(0);
  }, 180_000);

  afterAll(() => rm(root, {recursive: true, force: true}));

  it('writes a plain run; refuses an occupied --out without --overwrite', () => {
    const out = join(root, 'merged');
    const args = ['merge', '--model', join(root, 'base'), '--adapter', join(root, 'ft'), '--out', out];
    const r = runCli(args);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/merged 5 adapted layers of .* → /);
    const again = runCli(args);
    expect(again.code).toBe(1);
    expect(unwrap(again.stderr)).toMatch(/already holds files.*--overwrite/);
    expect(runCli([...args, '--overwrite']).code).toBe(0);
  }, 60_000);

  it('an adapter on a base it does not fit: exit 1 naming the layer and both shapes', () => {
    const r = runCli([
      'merge',
      '--model',
      join(root, 'wide'),
      '--adapter',
      join(root, 'ft'),
      '--out',
      join(root, 'x'),
    ]);
    expect(r.code).toBe(1);
    expect(unwrap(r.stderr)).toMatch(/adapter layer 'block0\/attn\/q' .*\[16, 16\].*\[24, 24\]/);
  }, 60_000);
});
