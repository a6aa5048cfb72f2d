import {mkdtemp, readFile, stat, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {ModelError} from '../../src/errors.js';
import {DecoderBlock} from '../../src/layers/decoder-block.js';
import {paramCounts} from '../../src/layers/walk-layers.js';
import {
  ADAPTER_JSON,
  ADAPTER_WEIGHTS,
  attachAdapter,
  extractAdapter,
  loadAdapter,
  readAdapter,
  saveAdapter,
} from '../../src/lora/lora-adapter.js';
import {applyLoRA} from '../../src/lora/lora-model.js';
import {maxAbsDiff, rand, saveAndLoad} from '../layers/layer-test-utils.js';
import {perturbAdapters, tinyEmbeddingModel, tinyTransformer} from './lora-fixtures.js';

beforeAll(async () => {
  await initBackend();
});

async function adaptedAndSaved(base: tf.LayersModel): Promise<{model: tf.LayersModel; dir: string}> {
  const {model} = applyLoRA(base, {rank: 2, alpha: 4, targets: 'attn.(q|v)|head'});
  perturbAdapters(model);
  const dir = await mkdtemp(join(tmpdir(), 'dsk-adapter-'));
  await saveAdapter(model, dir);
  return {model, dir};
}

describe('LoRA adapters on their own', () => {
  it('save as a small JSON + weights file and load onto a fresh copy of the base', async () => {
    const base = tinyTransformer();
    const {model, dir} = await adaptedAndSaved(base);
    const manifest = JSON.parse(await readFile(join(dir, ADAPTER_JSON), 'utf8'));
    expect(manifest).toMatchObject({format: 'deepseek-kit-lora-adapter', version: 1, rank: 2, alpha: 4});
    expect(manifest.layers).toContainEqual({path: 'block1/attn/v', inDim: 8, outDim: 8});
    expect(manifest.layers).toContainEqual({path: 'head', inDim: 8, outDim: 5});
    // Only A and B: 4·(8·2 + 2·8) + (8·2 + 2·5) float32s.
    expect((await stat(join(dir, ADAPTER_WEIGHTS))).size).toBe(4 * (4 * 32 + 26));
    expect((await stat(join(dir, ADAPTER_WEIGHTS))).size).toBeLessThan(paramCounts(base).totalParams);

    const freshBase = await saveAndLoad(base); // the same base weights in another model
    const {model: reloaded, report} = await loadAdapter(freshBase, dir);
    expect(report.targets).toEqual(manifest.layers.map((l: {path: string}) => l.path));
    const x = rand([2, 4, 8]);
    expect(await maxAbsDiff(model.predict(x) as tf.Tensor, reloaded.predict(x) as tf.Tensor)).toBe(0);
    expect(await maxAbsDiff(base.predict(x) as tf.Tensor, reloaded.predict(x) as tf.Tensor)).toBeGreaterThan(
      1e-3,
    );
  });

  it('onto an incompatible base fails naming the layer and both shapes', async () => {
    const {dir} = await adaptedAndSaved(tinyTransformer());
    const wider = tinyTransformer(16);
    await expect(loadAdapter(wider, dir)).rejects.toThrow(ModelError);
    await expect(loadAdapter(wider, dir)).rejects.toThrow(
      /adapter layer 'block0\/attn\/q' was trained on a kernel of shape \[8, 8\] but the base model's is \[16, 16\]/,
    );
    const input = tf.input({shape: [4, 8]});
    const other = tf.model({
      inputs: input,
      outputs: new DecoderBlock({name: 'block0', dModel: 8, numHeads: 2, ffnHidden: 12}).apply(
        input,
      ) as tf.SymbolicTensor,
    });
    await expect(loadAdapter(other, dir)).rejects.toThrow(
      /adapter layer 'block1\/attn\/q' is not in the base model/,
    );
  });

  it('rejects a file that is not an adapter, and a model without adapters', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dsk-adapter-'));
    await writeFile(join(dir, ADAPTER_JSON), JSON.stringify({format: 'something-else'}));
    await expect(readAdapter(dir)).rejects.toThrow(/not a deepseek-kit-lora-adapter version 1 file/);
    await expect(readAdapter(join(dir, 'missing'))).rejects.toThrow(/cannot read the adapter manifest/);
    expect(() => extractAdapter(tinyTransformer())).toThrow(/has no LoRA layers/);
  });

  it('carries embedding adapters too', async () => {
    const base = tinyEmbeddingModel('token');
    const {model} = applyLoRA(base, {rank: 3, alpha: 3, dropout: 0.05, targets: '.'});
    perturbAdapters(model);
    const adapter = extractAdapter(model);
    expect(adapter.manifest).toMatchObject({rank: 3, alpha: 3, dropout: 0.05});
    expect(adapter.manifest.layers).toEqual([
      {path: 'tok', inDim: 9, outDim: 4},
      {path: 'head', inDim: 4, outDim: 2},
    ]);
    const {model: attached} = attachAdapter(await saveAndLoad(base), adapter);
    const ids = tf.tensor2d([[3, 2, 1]], [1, 3], 'int32');
    expect(await maxAbsDiff(model.predict(ids) as tf.Tensor, attached.predict(ids) as tf.Tensor)).toBe(0);
    tf.dispose(adapter.weights);
  });

  it('extract → attach in memory leaks no tensors', async () => {
    const base = tinyTransformer();
    const {model} = applyLoRA(base, {rank: 1, targets: 'head'});
    const before = tf.memory().numTensors;
    const adapter = extractAdapter(model);
    const {model: attached} = attachAdapter(base, adapter);
    tf.dispose(adapter.weights);
    attached.dispose();
    expect(tf.memory().numTensors - before).toBe(0);
  });
});
