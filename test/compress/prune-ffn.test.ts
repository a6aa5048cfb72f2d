import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {countExpertUsage, dropExperts, moeLayerPaths} from '../../src/compress/prune-experts.js';
import {pruneFfnNeurons} from '../../src/compress/prune-ffn.js';
import {applyLoRA} from '../../src/lora/lora-model.js';
import {loadLayersModel, saveLayersModel} from '../../src/run/run-folder.js';
import {pruneRun} from '../../src/workflows/prune.js';
import {kitClassifier, maxDiff, predictRows, sampleIds} from './kit-model.js';

const weight = (model: tf.LayersModel, name: string) => model.weights.find((w) => w.originalName === name)!;
const ids = sampleIds(12);

describe('pruneFfnNeurons', () => {
  let dir: string;
  beforeAll(async () => {
    await initBackend();
    dir = await mkdtemp(join(tmpdir(), 'dsk-prune-structured-'));
  });
  afterAll(() => rm(dir, {recursive: true, force: true}));

  it('removes the neurons of least L1 norm: zeroed neurons go first and the outputs do not change', async () => {
    const model = kitClassifier('dense');
    // Neurons 3, 7, 11, 19 carry nothing: structured pruning must pick exactly them.
    const dead = [3, 7, 11, 19];
    const mask = tf.tensor1d(Array.from({length: 24}, (_, j) => (dead.includes(j) ? 0 : 1)));
    for (const site of ['gate', 'up']) {
      const w = weight(model, `block0/ffn/${site}/kernel`);
      w.write(tf.mul(w.read(), mask));
    }
    const down = weight(model, 'block0/ffn/down/kernel');
    down.write(tf.mul(down.read(), tf.reshape(mask, [24, 1])));
    const before = predictRows(model, ids);
    const tensors = tf.memory().numTensors;
    const {model: pruned, layers} = await pruneFfnNeurons(model, 4 / 24);
    expect(layers).toEqual([{layer: 'block0', hidden_before: 24, hidden_after: 20}]);
    expect(weight(pruned, 'block0/ffn/gate/kernel').shape).toEqual([16, 20]);
    expect(weight(pruned, 'block0/ffn/down/kernel').shape).toEqual([20, 16]);
    // d·4 removed from gate, up and down each.
    expect(model.countParams() - pruned.countParams()).toBe(3 * 16 * 4);
    expect(maxDiff(predictRows(pruned, ids), before)).toBeLessThan(1e-5);
    expect(
      (pruned.layers.find((l) => l.name === 'block0')!.getConfig() as {ffnHidden: number}).ffnHidden,
    ).toBe(20);

    await saveLayersModel(pruned, join(dir, 'ffn'));
    const loaded = await loadLayersModel(join(dir, 'ffn'));
    expect(maxDiff(predictRows(loaded, ids), before)).toBeLessThan(1e-5);
    pruned.dispose();
    loaded.dispose();
    expect(tf.memory().numTensors).toBe(tensors); // no tensor left behind by pruning
    model.dispose();
    mask.dispose();
  });

  it('refuses a model without dense FFN blocks, naming what to use instead', async () => {
    const model = kitClassifier('moe');
    await expect(pruneFfnNeurons(model, 0.3)).rejects.toThrow(/--method experts/);
    await expect(pruneFfnNeurons(model, 1)).rejects.toThrow(/sparsity/);
    model.dispose();
  });
});

describe('dropExperts', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('keeps the most-used experts with their weights and router columns, and the rebuilt model saves and loads', async () => {
    const model = kitClassifier('moe');
    const usage = countExpertUsage(model, [tf.tensor2d(ids, undefined, 'int32')]);
    const counts = usage.get('block0/ffn')!;
    expect(counts.reduce((a, b) => a + b, 0)).toBe(12 * 6 * 2); // every token picks topK = 2
    const ranked = counts.map((n, e) => [n, e]).sort((a, b) => b[0]! - a[0]! || a[1]! - b[1]!);
    const expected = ranked
      .slice(0, 2)
      .map(([, e]) => e!)
      .sort((a, b) => a - b);
    const {model: pruned, layers, numExperts, topK} = await dropExperts(model, usage, 0.5);
    expect({numExperts, topK, kept: layers[0]!.kept}).toEqual({numExperts: 2, topK: 2, kept: expected});
    const router = weight(model, 'block0/ffn/router/kernel').read();
    const kept = tf.tensor1d(expected, 'int32');
    const near = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!;
    expect(near(weight(pruned, 'block0/ffn/router/kernel').read(), tf.gather(router, kept, 1))).toBe(0);
    const up = weight(model, 'block0/ffn/experts/up').read();
    expect(near(weight(pruned, 'block0/ffn/experts/up').read(), tf.gather(up, kept, 0))).toBe(0);
    expect(weight(pruned, 'block0/ffn/router/balance_bias').shape).toEqual([2]);
    expect(moeLayerPaths(pruned)[0]!.layer.config.numExperts).toBe(2);
    // Two experts of 3·16·12 weights and their two router columns are gone.
    expect(model.countParams() - pruned.countParams()).toBe(2 * 3 * 16 * 12 + 2 * 16 + 2);
    const dir = await mkdtemp(join(tmpdir(), 'dsk-prune-experts-'));
    await saveLayersModel(pruned, join(dir, 'm'));
    const loaded = await loadLayersModel(join(dir, 'm'));
    expect(maxDiff(predictRows(loaded, ids), predictRows(pruned, ids))).toBeLessThan(1e-6);
    await rm(dir, {recursive: true, force: true});
    for (const m of [model, pruned, loaded]) m.dispose();
  });
});

describe('pruneRun on a run with LoRA adapters', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('merges the adapters first, then removes FFN neurons from the merged weights', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dsk-prune-lora-'));
    const base = kitClassifier('dense');
    const {model: adapted} = applyLoRA(base, {targets: 'ffn', rank: 2});
    // Non-zero B, so that the adapters change the outputs and merging matters.
    for (const w of adapted.weights.filter((v) => v.originalName.endsWith('lora_b'))) {
      w.write(tf.randomNormal(w.shape as number[], 0, 0.3, 'float32', 7));
    }
    await writeFile(join(dir, 'config.json'), JSON.stringify({task: 'classify', model: {ffnHidden: 24}}));
    await saveLayersModel(adapted, join(dir, 'model'));
    const report = await pruneRun({model: dir, out: `${dir}-out`, method: 'structured', sparsity: 0.25});
    expect(report.lora_fused).toBe(true);
    const loaded = await loadLayersModel(join(`${dir}-out`, 'model'));
    expect(loaded.weights.some((w) => /lora/.test(w.originalName))).toBe(false);
    expect(weight(loaded, 'block0/ffn/gate/kernel').shape).toEqual([16, 18]);
    expect(JSON.parse(await readFile(join(`${dir}-out`, 'config.json'), 'utf8')).model.ffnHidden).toBe(18);
    for (const m of [base, adapted, loaded]) m.dispose();
    await rm(dir, {recursive: true, force: true});
    await rm(`${dir}-out`, {recursive: true, force: true});
  });
});
