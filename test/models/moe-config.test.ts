import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {ConfigError} from '../../src/errors.js';
import {MoE} from '../../src/layers/moe.js';
import {walkLayers} from '../../src/layers/walk-layers.js';
import {buildCausalLM} from '../../src/models/causal-lm/causal-lm.js';
import {resolveCausalLMConfig} from '../../src/models/causal-lm/causal-lm-train.js';
import {buildFeatureClassifier} from '../../src/models/feature-classifier/feature-classifier.js';
import {resolveFeatureClassifierConfig} from '../../src/models/feature-classifier/feature-classifier-train.js';
import {MOE_OPTION_TYPES} from '../../src/models/moe-config.js';
import {buildClassifier} from '../../src/models/text-classifier/classifier.js';
import {resolveClassifierConfig} from '../../src/models/text-classifier/classifier-train.js';

let dir: string;
beforeAll(async () => {
  await initBackend();
  dir = await mkdtemp(join(tmpdir(), 'dsk-moe-config-'));
});
afterAll(async () => {
  await rm(dir, {recursive: true, force: true});
});

/** Every MoE setting away from the layer's default, as a --config file would set it. */
const EVERY_OPTION = {
  scoring: 'sigmoid',
  normTopK: true,
  routeScale: 2.5,
  temperature: 0.5,
  jitter: 0.01,
  capacityFactor: 1.25,
  numGroups: 2,
  topKGroups: 1,
  auxLossCoef: 0.003,
  zLossCoef: 0.001,
  seqAuxLossCoef: 0.0001,
  biasUpdateSpeed: 0.001,
  biasUpdate: 'manual',
} as const;

const moeConfigs = (model: tf.LayersModel) =>
  walkLayers(model).flatMap(({layer}) => (layer instanceof MoE ? [layer.config] : []));

async function configFile(name: string, content: object): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, JSON.stringify(content));
  return path;
}

describe('every MoE setting is reachable from --config', () => {
  it('the option table lists every MoE argument a config may set', () => {
    expect(Object.keys(MOE_OPTION_TYPES).sort()).toEqual([...Object.keys(EVERY_OPTION), 'activation'].sort());
  });

  it('text classifier (and the small-moe preset): each setting reaches the MoE layers', async () => {
    const file = await configFile('clf.json', {moe: {numExperts: 4, ...EVERY_OPTION}});
    const config = await resolveClassifierConfig({
      data: 'd',
      out: 'o',
      preset: 'small-moe',
      configFile: file,
    });
    expect(config.ffn).toBe('moe');
    const model = buildClassifier(config, 100, 2);
    const layers = moeConfigs(model);
    expect(layers).toHaveLength(config.numLayers);
    for (const c of layers) expect(c).toMatchObject({...EVERY_OPTION, numExperts: 4, numShared: 1});
    model.dispose();
  });

  it('language model and feature classifier too; settings left out keep the layer defaults', async () => {
    const file = await configFile('lm.json', {ffn: 'moe', moe: EVERY_OPTION});
    const lm = await resolveCausalLMConfig({data: 'd', out: 'o', preset: 'tiny', configFile: file});
    const model = buildCausalLM(lm, 64);
    for (const c of moeConfigs(model)) expect(c).toMatchObject(EVERY_OPTION);
    model.dispose();
    const features = await resolveFeatureClassifierConfig({
      data: 'd',
      out: 'o',
      configFile: await configFile('feat.json', {ffn: 'moe', moe: {zLossCoef: 0.002}}),
    });
    expect(features.moe).not.toHaveProperty('scoring');
    const mlp = buildFeatureClassifier(features, 4, 3);
    expect(moeConfigs(mlp)[0]).toMatchObject({zLossCoef: 0.002, scoring: 'softmax', capacityFactor: 0});
    mlp.dispose();
  });

  it('unknown keys and bad values are errors naming the key, before any data is read', async () => {
    const typo = await configFile('typo.json', {moe: {scorng: 'sigmoid'}});
    await expect(resolveClassifierConfig({data: 'd', out: 'o', configFile: typo})).rejects.toThrow(
      /unknown config key "moe\.scorng".*known keys here: .*scoring.*biasUpdateSpeed/,
    );
    const wrongType = await configFile('type.json', {moe: {capacityFactor: 'big'}});
    await expect(resolveCausalLMConfig({data: 'd', out: 'o', configFile: wrongType})).rejects.toThrow(
      /"moe\.capacityFactor" must be a number/,
    );
    const groups = await configFile('groups.json', {ffn: 'moe', moe: {numGroups: 3}});
    await expect(resolveClassifierConfig({data: 'd', out: 'o', configFile: groups})).rejects.toThrow(
      ConfigError,
    );
    await expect(resolveClassifierConfig({data: 'd', out: 'o', configFile: groups})).rejects.toThrow(
      /numGroups/,
    );
  });
});
