import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {ConfigError} from '../../src/errors.js';
import {loadModelConfig} from '../../src/models/model-config.js';

const defaults = {dModel: 64, numLayers: 2, ffn: 'dense', moe: {numExperts: 4, topK: 2}, finalNorm: false};
const presets = {tiny: {dModel: 32}};
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dsk-config-'));
});
afterAll(() => rm(dir, {recursive: true, force: true}));

describe('loadModelConfig', () => {
  it('layers defaults ← preset ← file ← flags, ignoring undefined flags', async () => {
    const file = join(dir, 'model.yaml');
    await writeFile(file, 'numLayers: 3\nmoe:\n  topK: 1\n');
    const config = await loadModelConfig({
      defaults,
      presets,
      preset: 'tiny',
      configFile: file,
      overrides: {numLayers: 4, ffn: undefined},
    });
    expect(config).toEqual({
      dModel: 32,
      numLayers: 4,
      ffn: 'dense',
      moe: {numExperts: 4, topK: 1},
      finalNorm: false,
    });
    expect(defaults.moe.topK).toBe(2);
  });

  it('names an unknown key, a nested one, a wrong type and an unknown preset', async () => {
    const cases: [string, string, RegExp][] = [
      ['a.yaml', 'dmodel: 32\n', /a\.yaml: unknown config key "dmodel".*known keys here: dModel, numLayers/],
      ['b.json', '{"moe": {"experts": 8}}', /b\.json: unknown config key "moe\.experts"/],
      ['c.yaml', 'numLayers: two\n', /c\.yaml: config key "numLayers" must be a number, got "two"/],
      ['d.yaml', '- 1\n- 2\n', /d\.yaml: expected a mapping/],
      ['e.json', '{"dModel": ', /e\.json is not valid JSON/],
    ];
    for (const [name, text, message] of cases) {
      await writeFile(join(dir, name), text);
      const error = await loadModelConfig({defaults, configFile: join(dir, name)}).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(message);
    }
    await expect(loadModelConfig({defaults, presets, preset: 'huge'})).rejects.toThrow(
      /unknown model preset "huge".*tiny/,
    );
  });
});
