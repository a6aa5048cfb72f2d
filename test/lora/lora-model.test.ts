import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {ConfigError} from '../../src/errors.js';
import {DecoderBlock} from '../../src/layers/decoder-block.js';
import {LoRADense} from '../../src/layers/lora-dense.js';
import {LoRAEmbedding} from '../../src/layers/lora-embedding.js';
import {paramCounts, walkLayers} from '../../src/layers/walk-layers.js';
import {applyLoRA, freezeAllButLoRA, fuseLoRA, loraSites} from '../../src/lora/lora-model.js';
import {expectClose, maxAbsDiff, rand, saveAndLoad} from '../layers/layer-test-utils.js';
import {perturbAdapters, tinyEmbeddingModel, tinyTransformer} from './lora-fixtures.js';

beforeAll(async () => {
  await initBackend();
});

describe('applyLoRA', () => {
  it('lists the Dense layers at any depth as LoRA sites', () => {
    const sites = loraSites(tinyTransformer());
    expect(sites).toContain('block0/attn/q');
    expect(sites).toContain('block1/ffn/down');
    expect(sites).toContain('head');
    expect(sites).toHaveLength(2 * 7 + 1);
  });

  it('adapts the matching layers, freezes the rest, and starts equal to the base', async () => {
    const base = tinyTransformer();
    const {model, report} = applyLoRA(base, {rank: 2, targets: 'attn.(q|v)'});
    expect(report.targets).toEqual(['block0/attn/q', 'block0/attn/v', 'block1/attn/q', 'block1/attn/v']);
    // Each adapted [8, 8] kernel gains A [8, 2] and B [2, 8].
    expect(report.trainableParams).toBe(4 * (16 + 16));
    expect(report.totalParams).toBe(paramCounts(base).totalParams + 4 * 32);
    expect(model.trainableWeights.every((w) => /lora_[ab]$/.test(w.originalName))).toBe(true);
    const x = rand([3, 4, 8]);
    expect(await maxAbsDiff(base.predict(x) as tf.Tensor, model.predict(x) as tf.Tensor)).toBe(0);
  });

  it('fit moves only the adapters', async () => {
    const base = tinyTransformer();
    const {model} = applyLoRA(base, {rank: 2, alpha: 4, targets: /attn\/(q|v)|head/});
    const before = new Map(model.weights.map((w) => [w.originalName, w.read().clone()]));
    model.compile({optimizer: tf.train.adam(0.01), loss: 'meanSquaredError'});
    const x = rand([8, 4, 8], 1);
    const y = rand([8, 4, 5], 2);
    await model.fit(x, y, {epochs: 3, verbose: 0});
    for (const w of model.weights) {
      const moved = (await maxAbsDiff(before.get(w.originalName)!, w.read())) > 0;
      expect([w.originalName, moved]).toEqual([w.originalName, /lora_b$|lora_a$/.test(w.originalName)]);
    }
    tf.dispose([...before.values(), x, y]);
  });

  it('lists MoE expert projections as sites, and attention targets leave the MoE frozen and intact', async () => {
    const input = tf.input({shape: [4, 8]});
    const moe = {numExperts: 4, topK: 2, expertHidden: 6};
    const h = new DecoderBlock({name: 'moe0', dModel: 8, numHeads: 2, ffn: 'moe', moe}).apply(input);
    const base = tf.model({inputs: input, outputs: h as tf.SymbolicTensor});
    expect(loraSites(base)).toEqual([
      ...['q', 'k', 'v', 'o'].map((p) => `moe0/attn/${p}`),
      ...['gate', 'up', 'down'].map((p) => `moe0/ffn/experts/${p}`),
    ]);
    const {model, report} = applyLoRA(base, {rank: 2, targets: 'attn.(q|v)'});
    expect(report.trainableParams).toBe(2 * 32);
    const x = rand([2, 4, 8]);
    expect(await maxAbsDiff(base.predict(x) as tf.Tensor, model.predict(x) as tf.Tensor)).toBe(0);
  });

  it('works on Sequential models too', async () => {
    const seq = tf.sequential({
      layers: [tf.layers.dense({inputShape: [6], units: 4, activation: 'relu'}), tf.layers.dense({units: 2})],
    });
    const {model, report} = applyLoRA(seq, {rank: 1, targets: '.'});
    expect(model.getClassName()).toBe('Sequential');
    expect(report.targets).toHaveLength(2);
    expect(report.trainableParams).toBe(6 + 4 + 4 + 2);
    const x = rand([2, 6]);
    expect(await maxAbsDiff(seq.predict(x) as tf.Tensor, model.predict(x) as tf.Tensor)).toBe(0);
  });

  it('says what went wrong with bad targets', () => {
    const base = tinyTransformer();
    expect(() => applyLoRA(base, {rank: 2, targets: 'nothing'})).toThrow(ConfigError);
    expect(() => applyLoRA(base, {rank: 2, targets: 'nothing'})).toThrow(
      /match no layer — layers that can take LoRA: block0\/attn\/q/,
    );
    expect(() => applyLoRA(base, {rank: 2, targets: 'attn.(q'})).toThrow(/not a valid regular expression/);
    expect(() => applyLoRA(base, {rank: 2, targets: ['block0/attn/x']})).toThrow(
      /no Dense layer at 'block0\/attn\/x'/,
    );
    expect(() => applyLoRA(base, {rank: 0, targets: 'head'})).toThrow(/rank must be an integer >= 1/);
    const {model} = applyLoRA(base, {rank: 2, targets: 'head'});
    expect(() => applyLoRA(model, {rank: 2, targets: 'head'})).toThrow(/already has a LoRA adapter/);
  });
});

describe('fuseLoRA and saving an adapted model', () => {
  it('fused model is plain Dense, same size as the base, equal to the adapted model', async () => {
    const base = tinyTransformer();
    const {model} = applyLoRA(base, {rank: 2, targets: 'attn.(q|v)|ffn.down|head'});
    perturbAdapters(model);
    const fused = fuseLoRA(model);
    expect(walkLayers(fused).some(({layer}) => layer instanceof LoRADense)).toBe(false);
    expect(paramCounts(fused)).toEqual({
      ...paramCounts(base),
      trainableParams: paramCounts(base).totalParams,
    });
    const x = rand([3, 4, 8]);
    const adapted = model.predict(x) as tf.Tensor;
    await expectClose(adapted, fused.predict(x) as tf.Tensor, 1e-5);
    expect(await maxAbsDiff(adapted, base.predict(x) as tf.Tensor)).toBeGreaterThan(1e-3);
  });

  it('an adapted model saves and loads in the tfjs format; freezeAllButLoRA restores the split', async () => {
    const {model, report} = applyLoRA(tinyTransformer(), {rank: 2, targets: 'attn.(q|v)'});
    perturbAdapters(model);
    const loaded = await saveAndLoad(model);
    const x = rand([2, 4, 8]);
    expect(await maxAbsDiff(model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor)).toBe(0);
    freezeAllButLoRA(loaded);
    expect(paramCounts(loaded)).toEqual({
      trainableParams: report.trainableParams,
      totalParams: report.totalParams,
    });
  });
});

describe('LoRA on embeddings', () => {
  for (const kind of ['embedding', 'token'] as const) {
    it(`adapts a top-level ${kind} layer and fuses it back to its class`, async () => {
      const base = tinyEmbeddingModel(kind);
      expect(loraSites(base)).toEqual(['tok', 'head']);
      const {model, report} = applyLoRA(base, {rank: 2, dropout: 0.1, targets: 'tok'});
      expect(model.getLayer('tok')).toBeInstanceOf(LoRAEmbedding);
      expect(report.trainableParams).toBe(9 * 2 + 2 * 4);
      const ids = tf.tensor2d(
        [
          [0, 8, 4],
          [1, 1, 2],
        ],
        [2, 3],
        'int32',
      );
      expect(await maxAbsDiff(base.predict(ids) as tf.Tensor, model.predict(ids) as tf.Tensor)).toBe(0);
      perturbAdapters(model);
      const fused = fuseLoRA(model);
      expect(fused.getLayer('tok').getClassName()).toBe(base.getLayer('tok').getClassName());
      const adapted = model.predict(ids) as tf.Tensor;
      await expectClose(adapted, fused.predict(ids) as tf.Tensor, 1e-5);
      expect(await maxAbsDiff(adapted, base.predict(ids) as tf.Tensor)).toBeGreaterThan(1e-3);
    });
  }
});
