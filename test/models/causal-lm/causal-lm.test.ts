import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../../src/backend/backend.js';
import {CachedDecoder} from '../../../src/models/causal-lm/cached-decoder.js';
import {activeParameters, buildCausalLM} from '../../../src/models/causal-lm/causal-lm.js';
import {loadLayersModel, saveLayersModel} from '../../../src/run/run-folder.js';
import {withSeededRandom} from '../../../src/train/seeded-random.js';
import {preset, small, VARIANTS} from './lm-variants.js';

const trainable = (m: tf.LayersModel) =>
  m.trainableWeights.reduce((n, w) => n + tf.util.sizeFromShape(w.shape as number[]), 0);

describe('causal language model', () => {
  let root: string;
  beforeAll(async () => {
    await initBackend();
    root = await mkdtemp(join(tmpdir(), 'dsk-lm-'));
  });
  afterAll(async () => {
    await rm(root, {recursive: true, force: true});
  });

  it('builds the benchmark configs with the parameter counts issue 5 states', () => {
    const dense = buildCausalLM(preset('dense-lm'), 256);
    const moe = buildCausalLM(preset('moe-lm'), 256);
    expect(trainable(dense)).toBe(4_360_448);
    expect(trainable(moe)).toBe(9_087_232);
    expect(activeParameters(preset('moe-lm'), trainable(moe))).toBe(4_368_640);
    dense.dispose();
    moe.dispose();
  });

  it('ties the head to the embedding: no head matrix, logits = h · Eᵀ', () => {
    const tied = buildCausalLM(small({}), 50);
    const untied = buildCausalLM(small({tiedHead: false}), 50);
    expect(trainable(untied) - trainable(tied)).toBe(16 * 50);
    tied.dispose();
    untied.dispose();
  });

  for (const [name, over] of Object.entries(VARIANTS)) {
    it(`${name}: save → load gives the same logits, and cached decoding equals the full forward`, async () => {
      const config = small(over);
      const model = withSeededRandom(5, () => buildCausalLM(config, 40));
      const ids = [[3, 7, 1, 9, 22, 5, 5, 30, 2, 11]];
      const full = tf.tidy(() =>
        (model.predict(tf.tensor2d(ids, undefined, 'int32')) as tf.Tensor).arraySync(),
      ) as number[][][];

      const dir = join(root, name.replace(/\W+/g, '-'));
      await saveLayersModel(model, dir);
      const loaded = await loadLayersModel(dir);
      const again = tf.tidy(() =>
        (loaded.predict(tf.tensor2d(ids, undefined, 'int32')) as tf.Tensor).arraySync(),
      ) as number[][][];
      expect(again).toEqual(full);

      const before = tf.memory().numTensors;
      const decoder = new CachedDecoder(loaded, config);
      const steps = [ids[0]!.slice(0, 4), ...ids[0]!.slice(4).map((t) => [t])];
      let position = -1;
      for (const chunk of steps) {
        position += chunk.length;
        const logits = decoder.step(chunk);
        const got = logits.arraySync();
        logits.dispose();
        const want = full[0]![position]!;
        for (let v = 0; v < want.length; v++) expect(got[v]).toBeCloseTo(want[v]!, 4);
      }
      decoder.dispose();
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
      loaded.dispose();
    });
  }

  it('refuses to decode past the context length', () => {
    const config = small({contextLength: 4});
    const model = buildCausalLM(config, 40);
    const decoder = new CachedDecoder(model, config);
    decoder.step([1, 2, 3]).dispose();
    expect(() => decoder.step([4, 5])).toThrow(/at most 4 tokens/);
    decoder.dispose();
    model.dispose();
  });
});
