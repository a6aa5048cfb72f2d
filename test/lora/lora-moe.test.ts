import {mkdtemp, readFile, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {inferenceModel} from '../../src/compress/quantize-model.js';
import {ModelError} from '../../src/errors.js';
import {DecoderBlock} from '../../src/layers/decoder-block.js';
import {MoE, type MoEArgs} from '../../src/layers/moe.js';
import {paramCounts, walkLayers} from '../../src/layers/walk-layers.js';
import {ADAPTER_JSON, loadAdapter, saveAdapter} from '../../src/lora/lora-adapter.js';
import {
  adaptedPaths,
  applyLoRA,
  freezeAllButLoRA,
  fuseLoRA,
  isLoRALayer,
  loraSites,
} from '../../src/lora/lora-model.js';
import {DEFAULT_LORA_TARGETS} from '../../src/workflows/finetune-options.js';
import {leakedTensors, maxAbsDiff, rand, saveAndLoad} from '../layers/layer-test-utils.js';

let dir: string;
beforeAll(async () => {
  await initBackend();
  dir = await mkdtemp(join(tmpdir(), 'dsk-lora-moe-'));
});
afterAll(() => rm(dir, {recursive: true, force: true}));

const MOE: Omit<MoEArgs, 'name'> = {numExperts: 4, topK: 2, expertHidden: 6, numShared: 1, seed: 3};

/** input [4, 8] → two MoE decoder blocks → Dense head 'head' (5 outputs). */
function tinyMoETransformer(moe: Partial<MoEArgs> = {}): tf.LayersModel {
  const input = tf.input({shape: [4, 8]});
  let h = input;
  for (let i = 0; i < 2; i++) {
    const block = new DecoderBlock({
      name: `block${i}`,
      dModel: 8,
      numHeads: 2,
      ffn: 'moe',
      moe: {...MOE, ...moe},
    });
    h = block.apply(h) as tf.SymbolicTensor;
  }
  const out = tf.layers.dense({units: 5, name: 'head'}).apply(h) as tf.SymbolicTensor;
  return tf.model({inputs: input, outputs: out, name: 'tiny_moe'});
}

/** Sets every adapter weight (A and B) to seeded random values, so adapted ≠ base. */
function perturb(model: tf.LayersModel): void {
  for (const {layer} of walkLayers(model)) {
    if (!isLoRALayer(layer)) continue;
    const values = layer.getAdapterWeights().map((w, i) => {
      const r = tf.tidy(() => tf.mul(rand(w.shape, 40 + i), 0.4));
      w.dispose();
      return r;
    });
    layer.setAdapterWeights(values);
    tf.dispose(values);
  }
}

/** Fused predicts as adapted to 1e-5 and adapted differs from base; disposes the models and `x`. */
async function expectFusedEqual(
  base: tf.LayersModel,
  model: tf.LayersModel,
  fused: tf.LayersModel,
  x: tf.Tensor,
): Promise<void> {
  const adapted = model.predict(x) as tf.Tensor;
  expect(await maxAbsDiff(adapted, fused.predict(x) as tf.Tensor)).toBeLessThanOrEqual(1e-5);
  expect(await maxAbsDiff(adapted, base.predict(x) as tf.Tensor)).toBeGreaterThan(1e-3);
  tf.dispose([x, adapted]);
  for (const m of [base, model, fused]) m.dispose();
}

const DOWN = [
  'block0/ffn/experts/down',
  'block0/ffn/shared/down',
  'block1/ffn/experts/down',
  'block1/ffn/shared/down',
];

describe('LoRA on MoE models', () => {
  it('the default targets adapt attention and the routed and shared experts’ down projections', async () => {
    const base = tinyMoETransformer();
    expect(loraSites(base)).toContain('block1/ffn/shared/gate');
    expect(loraSites(base)).not.toContain('block0/ffn/router');
    const {model, report} = applyLoRA(base, {rank: 2, targets: DEFAULT_LORA_TARGETS});
    expect(report.targets.filter((t) => t.includes('/ffn/'))).toEqual(DOWN);
    expect(report.targets).toHaveLength(2 * 4 + 4);
    expect(adaptedPaths(model)).toEqual(report.targets);
    // Per block: 4 attention adapters of 8·2 + 2·8, experts/down 4·(6·2 + 2·8), shared/down 6·2 + 2·8.
    expect(report.trainableParams).toBe(2 * (4 * 32 + 4 * 28 + 28));
    expect(model.trainableWeights.every((w) => /lora_[ab]$/.test(w.originalName))).toBe(true);
    const x = rand([3, 4, 8]);
    expect(await maxAbsDiff(base.predict(x) as tf.Tensor, model.predict(x) as tf.Tensor)).toBeLessThanOrEqual(
      1e-6,
    );
    tf.dispose(x);
    expect(() => applyLoRA(model, {rank: 2, targets: ['block0/ffn/experts/down']})).toThrow(
      /'block0\/ffn\/experts\/down' already has a LoRA adapter/,
    );
    base.dispose();
    model.dispose();
  });

  it('fit moves only the expert adapters; the router and experts stay as they were', async () => {
    const base = tinyMoETransformer();
    const {model} = applyLoRA(base, {rank: 2, alpha: 4, targets: 'experts/(up|down)$|shared/down$'});
    const before = new Map(model.weights.map((w) => [w.originalName, w.read().clone()]));
    model.compile({optimizer: tf.train.adam(0.01), loss: 'meanSquaredError'});
    const [x, y] = [rand([8, 4, 8], 1), rand([8, 4, 5], 2)];
    await model.fit(x, y, {epochs: 3, batchSize: 4, verbose: 0});
    for (const w of model.weights) {
      const moved = (await maxAbsDiff(before.get(w.originalName)!, w.read())) > 0;
      const adapter = /lora_[ab]$/.test(w.originalName);
      expect([w.originalName, moved]).toEqual([w.originalName, adapter]);
    }
    tf.dispose([...before.values(), x, y]);
    base.dispose();
    model.dispose();
  });

  it('fuses into a plain MoE model, equal to the adapted one to 1e-5, the base’s size', async () => {
    const base = tinyMoETransformer();
    const {model} = applyLoRA(base, {rank: 3, alpha: 6, rslora: true, targets: 'attn/q$|/(gate|up|down)$'});
    perturb(model);
    const fused = fuseLoRA(model);
    expect(adaptedPaths(fused)).toEqual([]);
    expect(JSON.stringify(fused.getConfig())).not.toMatch(/lora_?a|"rank"/);
    // Same size as the base (frozen flags of the layers without adapters carry over, as for dense LoRA).
    expect(paramCounts(fused).totalParams).toBe(paramCounts(base).totalParams);
    await expectFusedEqual(base, model, fused, rand([3, 4, 8], 5));
  });

  it('an adapted MoE model saves and loads; freezeAllButLoRA restores the split', async () => {
    const base = tinyMoETransformer();
    const {model, report} = applyLoRA(base, {rank: 2, targets: DOWN});
    perturb(model);
    const loaded = await saveAndLoad(model);
    const x = rand([2, 4, 8], 6);
    expect(await maxAbsDiff(model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor)).toBe(0);
    freezeAllButLoRA(loaded);
    expect(paramCounts(loaded)).toEqual({
      trainableParams: report.trainableParams,
      totalParams: report.totalParams,
    });
    tf.dispose(x);
    for (const m of [base, model, loaded]) m.dispose();
  });

  it('an MoE adapter saves on its own and loads onto the base; a mismatch names the layer and shapes', async () => {
    const base = tinyMoETransformer();
    const {model} = applyLoRA(base, {rank: 2, alpha: 4, targets: DEFAULT_LORA_TARGETS});
    perturb(model);
    const out = join(dir, 'adapter');
    await saveAdapter(model, out);
    const manifest = JSON.parse(await readFile(join(out, ADAPTER_JSON), 'utf8'));
    expect(manifest.layers).toContainEqual({
      path: 'block0/ffn/experts/down',
      inDim: 6,
      outDim: 8,
      experts: 4,
    });
    expect(manifest.layers).toContainEqual({path: 'block1/ffn/shared/down', inDim: 6, outDim: 8});
    const {model: reloaded} = await loadAdapter(await saveAndLoad(base), out);
    const x = rand([2, 4, 8], 7);
    expect(await maxAbsDiff(model.predict(x) as tf.Tensor, reloaded.predict(x) as tf.Tensor)).toBe(0);
    tf.dispose(x);

    const fewer = tinyMoETransformer({numExperts: 2, topK: 1});
    await expect(loadAdapter(fewer, out)).rejects.toThrow(ModelError);
    await expect(loadAdapter(fewer, out)).rejects.toThrow(
      "adapter layer 'block0/ffn/experts/down' was trained on a kernel of shape [4, 6, 8] but the base model's is [2, 6, 8]",
    );
    const narrower = tinyMoETransformer({expertHidden: 5});
    await expect(loadAdapter(narrower, out)).rejects.toThrow(
      /'block0\/ffn\/experts\/down'.*\[4, 6, 8\].*\[4, 5, 8\]/,
    );
    const noShared = tinyMoETransformer({numShared: 0});
    await expect(loadAdapter(noShared, out)).rejects.toThrow(
      "adapter layer 'block0/ffn/shared/down' is not in the base model",
    );
    for (const m of [base, model, reloaded, fewer, narrower, noShared]) m.dispose();
  });

  it('adapts a top-level MoE layer (the feature classifier’s shape) and fuses it back', async () => {
    const input = tf.input({shape: [6]});
    const h = new MoE({...MOE, name: 'block0_moe', activation: 'relu'}).apply(input) as tf.SymbolicTensor;
    const base = tf.model({
      inputs: input,
      outputs: tf.layers.dense({units: 3, name: 'logits'}).apply(h) as tf.SymbolicTensor,
    });
    const {model, report} = applyLoRA(base, {rank: 2, targets: DEFAULT_LORA_TARGETS});
    expect(report.targets).toEqual(['block0_moe/experts/down', 'block0_moe/shared/down']);
    perturb(model);
    const fused = fuseLoRA(model);
    expect(fused.getLayer('block0_moe').getConfig().lora).toBeNull();
    await expectFusedEqual(base, model, fused, rand([5, 6], 8));
  });

  it('export and quantize see MoE-only adapters and fuse them (inferenceModel)', async () => {
    const base = tinyMoETransformer();
    const {model} = applyLoRA(base, {rank: 2, targets: 'experts/down$'});
    perturb(model);
    const {model: plain, fused} = inferenceModel(model);
    expect(fused).toBe(true);
    expect(plain.weights.some((w) => /lora_[ab]$/.test(w.originalName))).toBe(false);
    await expectFusedEqual(base, model, plain, rand([2, 4, 8], 10));
  });

  it('applying, running and fusing leak no tensors', async () => {
    const base = tinyMoETransformer();
    const x = rand([2, 4, 8], 9);
    const leaked = await leakedTensors(() => {
      const {model} = applyLoRA(base, {rank: 2, targets: DEFAULT_LORA_TARGETS});
      perturb(model);
      const fused = fuseLoRA(model);
      tf.dispose([model.predict(x) as tf.Tensor, fused.predict(x) as tf.Tensor]);
      model.dispose();
      fused.dispose();
    });
    expect(leaked).toBe(0);
    x.dispose();
    base.dispose();
  });
});
