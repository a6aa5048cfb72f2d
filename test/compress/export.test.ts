import {mkdtemp, readdir, readFile, rm, stat} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {exportModel} from '../../src/compress/export.js';
import {loadModelFolder, modelFolderHandler, SHARD_BYTES} from '../../src/compress/model-folder.js';
import {EXPORT_DTYPES} from '../../src/compress/weight-codec.js';
import {applyLoRA} from '../../src/lora/lora-model.js';
import {perturbAdapters} from '../lora/lora-fixtures.js';
import {kitClassifier, maxDiff, predictRows, sampleIds} from './kit-model.js';

let root: string;
beforeAll(async () => {
  await initBackend();
  root = await mkdtemp(join(tmpdir(), 'dsk-export-'));
});
afterAll(async () => {
  await rm(root, {recursive: true, force: true});
});

/** tfjs's own loader over the folder's raw bytes: no kit decoding. */
const stockLoad = (dir: string) => tf.loadLayersModel(modelFolderHandler(dir, {decode: false}));

describe('exportModel', () => {
  it('writes every dtype; stock tfjs loads its own formats, the kit decodes int8/int4', async () => {
    const model = kitClassifier('moe');
    const ids = sampleIds(8);
    const reference = predictRows(model, ids);
    const tolerance: Record<string, number> = {
      none: 1e-6,
      float16: 0.01,
      uint16: 0.01,
      uint8: 0.3,
      int8: 0.1,
      int4: 1,
    };
    const bytes: Record<string, number> = {};
    for (const dtype of EXPORT_DTYPES) {
      const out = join(root, dtype);
      const report = await exportModel(model, out, {dtype, labels: ['a', 'b', 'c']});
      bytes[dtype] = report.size_bytes_after;
      if (dtype === 'none') expect(report.size_bytes_after).toBe(report.size_bytes_before);
      expect(report.needs_runtime).toBe(dtype === 'int8' || dtype === 'int4');
      expect(JSON.parse(await readFile(join(out, 'labels.json'), 'utf8'))).toEqual(['a', 'b', 'c']);
      const loaded = await loadModelFolder(out);
      expect(maxDiff(predictRows(loaded, ids), reference)).toBeLessThan(tolerance[dtype]!);
      loaded.dispose();
      if (report.needs_runtime) {
        await expect(stockLoad(out)).rejects.toThrow(/unknown quantization dtype int/);
      } else {
        const stock = await stockLoad(out);
        expect(maxDiff(predictRows(stock, ids), reference)).toBeLessThan(tolerance[dtype]!);
        stock.dispose();
      }
    }
    expect(bytes.float16! / bytes.none!).toBeLessThanOrEqual(0.5);
    expect(bytes.int8! / bytes.none!).toBeLessThan(bytes.float16! / bytes.none!);
    expect(bytes.int4!).toBeLessThan(bytes.int8!);
    model.dispose();
  });

  it('fuses LoRA: plain layers in model.json, same predictions as the adapted model', async () => {
    const base = kitClassifier('dense');
    const {model: adapted} = applyLoRA(base, {targets: 'attn/(q|v)|logits', rank: 2});
    perturbAdapters(adapted);
    const ids = sampleIds(5);
    const out = join(root, 'lora');
    await exportModel(adapted, out, {dtype: 'none'});
    const json = await readFile(join(out, 'model.json'), 'utf8');
    expect(json).not.toMatch(/LoRA|lora_a|trainingConfig/);
    const loaded = await stockLoad(out);
    expect(maxDiff(predictRows(loaded, ids), predictRows(adapted, ids))).toBeLessThan(1e-5);
    for (const m of [base, adapted, loaded]) m.dispose();
  });

  it('cuts weights into shards of at most 4 MB and refuses a folder in use', async () => {
    const input = tf.input({shape: [1024]});
    const big = tf.model({
      inputs: input,
      outputs: tf.layers.dense({units: 2500}).apply(input) as tf.SymbolicTensor,
    });
    const out = join(root, 'big');
    await exportModel(big, out, {dtype: 'none'});
    const shards = (await readdir(out)).filter((f) => f.endsWith('.bin'));
    expect(shards.length).toBe(3);
    for (const s of shards) expect((await stat(join(out, s))).size).toBeLessThanOrEqual(SHARD_BYTES);
    await expect(exportModel(big, out, {dtype: 'none'})).rejects.toThrow(/already holds files.*--overwrite/);
    await exportModel(big, out, {dtype: 'float16', overwrite: true});
    expect((await readdir(out)).filter((f) => f.endsWith('.bin')).length).toBe(2);
    big.dispose();
  });
});
