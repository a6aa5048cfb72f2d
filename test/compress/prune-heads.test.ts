import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {pruneAttentionHeads} from '../../src/compress/prune-heads.js';
import {DecoderBlock} from '../../src/layers/decoder-block.js';
import {MaskedMeanPool} from '../../src/layers/masked-mean-pool.js';
import {TokenEmbedding} from '../../src/layers/token-embedding.js';
import {applyLoRA} from '../../src/lora/lora-model.js';
import {loadLayersModel, saveLayersModel} from '../../src/run/run-folder.js';
import {withSeededRandom} from '../../src/train/seeded-random.js';
import {maxDiff, predictRows, SEQ, sampleIds, VOCAB} from './kit-model.js';

const D = 16;
const weight = (model: tf.LayersModel, name: string) => model.weights.find((w) => w.originalName === name)!;
const ids = sampleIds(10);

/** ids → embedding → two blocks of `heads` heads (`kvHeads` KV heads) of size 4 → mean → 3 logits. */
function headsModel(heads: number, kvHeads: number, useBias = false): tf.LayersModel {
  return withSeededRandom(3, () => {
    const input = tf.input({shape: [SEQ], dtype: 'int32'});
    let h = new TokenEmbedding({vocabSize: VOCAB, dModel: D, name: 'embed', initStd: 0.5}).apply(
      input,
    ) as tf.SymbolicTensor;
    for (const name of ['block0', 'block1']) {
      h = new DecoderBlock({
        name,
        dModel: D,
        numHeads: heads,
        numKvHeads: kvHeads,
        ffnHidden: 8,
        useBias,
      }).apply(h) as tf.SymbolicTensor;
    }
    const pooled = new MaskedMeanPool({name: 'pool'}).apply([h, input]) as tf.SymbolicTensor;
    const logits = tf.layers.dense({units: 3, name: 'logits'}).apply(pooled) as tf.SymbolicTensor;
    return tf.model({inputs: input, outputs: logits});
  });
}

/**
 * Multiplies the q/k/v columns and o rows of the given query heads (and the KV heads they read) by
 * `factor`, with head size `hd` and `group` query heads per KV head: 0 removes the heads from the
 * computation, 0.01 makes them the least L1 norm.
 */
function scaleHeads(
  model: tf.LayersModel,
  block: string,
  heads: number[],
  group: number,
  factor: number,
): void {
  const hd = 4;
  const scale = (name: string, indices: number[], axis: 0 | 1) => {
    const w = weight(model, `${block}/attn/${name}`);
    const n = w.shape[axis]!;
    const mask = Array.from({length: n}, (_, i) => (indices.includes(Math.floor(i / hd)) ? factor : 1));
    const m = axis === 1 || w.shape.length === 1 ? tf.tensor1d(mask) : tf.tensor2d(mask, [n, 1]);
    tf.tidy(() => {
      w.write(tf.mul(w.read(), m));
    });
    m.dispose();
  };
  const kv = [...new Set(heads.map((h) => Math.floor(h / group)))];
  scale('q/kernel', heads, 1);
  for (const p of ['k', 'v']) scale(`${p}/kernel`, kv, 1);
  scale('o/kernel', heads, 0);
}

describe('pruneAttentionHeads', () => {
  let dir: string;
  beforeAll(async () => {
    await initBackend();
    dir = await mkdtemp(join(tmpdir(), 'dsk-prune-heads-'));
  });
  afterAll(() => rm(dir, {recursive: true, force: true}));

  it('removes the query heads of least L1 norm: the parameters predicted, the outputs of masking them, same after save → load', async () => {
    const model = headsModel(4, 4);
    // Heads 1 and 3 of block0, 0 and 1 of block1 are the weakest: they are the ones to go.
    const weakest = {block0: [1, 3], block1: [0, 1]};
    for (const [block, heads] of Object.entries(weakest)) scaleHeads(model, block, heads, 1, 0.01);
    const tensors = tf.memory().numTensors;
    const {model: pruned, layers} = await pruneAttentionHeads(model, 0.5);
    expect(layers).toEqual(
      ['block0', 'block1'].map((layer) => ({
        layer,
        heads_before: 4,
        heads_after: 2,
        kv_heads_before: 4,
        kv_heads_after: 2,
        head_dim: 4,
      })),
    );
    // Two heads of 4 per block: 16×8 of q, k and v each and 8×16 of o.
    expect(model.countParams() - pruned.countParams()).toBe(2 * 4 * D * 8);
    expect(weight(pruned, 'block0/attn/q/kernel').shape).toEqual([D, 8]);
    expect(weight(pruned, 'block0/attn/o/kernel').shape).toEqual([8, D]);
    const config = pruned.layers.find((l) => l.name === 'block1')!.getConfig();
    expect(config).toMatchObject({dModel: D, numHeads: 2, numKvHeads: 2, headDim: 4});

    for (const [block, heads] of Object.entries(weakest)) scaleHeads(model, block, heads, 1, 0);
    const masked = predictRows(model, ids);
    expect(maxDiff(predictRows(pruned, ids), masked)).toBeLessThan(1e-5);
    await saveLayersModel(pruned, join(dir, 'mha'));
    const loaded = await loadLayersModel(join(dir, 'mha'));
    expect(maxDiff(predictRows(loaded, ids), masked)).toBeLessThan(1e-5);
    pruned.dispose();
    loaded.dispose();
    expect(tf.memory().numTensors).toBe(tensors);
    model.dispose();
  });

  it('grouped-query attention: a KV head goes with its query heads, biases included', async () => {
    // 4 query heads over 2 KV heads (groups {0, 1} and {2, 3}); group 0 is the weakest in block0, 1 in block1.
    const model = headsModel(4, 2, true);
    scaleHeads(model, 'block0', [0, 1], 2, 0.01);
    scaleHeads(model, 'block1', [2, 3], 2, 0.01);
    const {model: pruned, layers} = await pruneAttentionHeads(model, 0.5);
    expect(layers[0]).toMatchObject({heads_after: 2, kv_heads_before: 2, kv_heads_after: 1});
    expect(weight(pruned, 'block0/attn/k/kernel').shape).toEqual([D, 4]);
    expect(weight(pruned, 'block0/attn/q/bias').shape).toEqual([8]);
    // Per block: q 16×8 + 8, k and v 16×4 + 4 each, o 8×16 (its bias is per output, kept).
    expect(model.countParams() - pruned.countParams()).toBe(2 * (D * 8 + 8 + 2 * (D * 4 + 4) + 8 * D));
    // Masking: the removed heads' o rows zero is enough — nothing else reads them.
    for (const [block, heads] of [
      ['block0', [0, 1]],
      ['block1', [2, 3]],
    ] as [string, number[]][]) {
      const o = weight(model, `${block}/attn/o/kernel`);
      const keep = Array.from({length: 16}, (_, r) => (heads.includes(Math.floor(r / 4)) ? 0 : 1));
      o.write(tf.tidy(() => tf.mul(o.read(), tf.tensor2d(keep, [16, 1]))));
    }
    expect(maxDiff(predictRows(pruned, ids), predictRows(model, ids))).toBeLessThan(1e-5);
    pruned.dispose();
    model.dispose();
  });

  it('a model saved before headDim existed loads and predicts as before', async () => {
    const model = headsModel(2, 2);
    const topology = model.toJSON(undefined, false) as unknown as {
      config: {layers: {class_name: string; config: Record<string, unknown>}[]};
    };
    for (const layer of topology.config.layers) {
      if (layer.class_name === 'DecoderBlock') delete layer.config.head_dim;
    }
    const old = await tf.models.modelFromJSON(topology as unknown as tf.io.ModelJSON);
    old.setWeights(model.getWeights());
    expect((old.layers.find((l) => l.name === 'block0')!.getConfig() as {headDim: number}).headDim).toBe(8);
    expect(maxDiff(predictRows(old, ids), predictRows(model, ids))).toBe(0);
    old.dispose();
    model.dispose();
  });

  it('refuses blocks with live LoRA adapters and models without attention', async () => {
    const base = headsModel(4, 4);
    const {model: adapted} = applyLoRA(base, {targets: 'attn', rank: 2});
    await expect(pruneAttentionHeads(adapted, 0.25)).rejects.toThrow(/LoRA adapters.*|fuse the adapters/);
    const input = tf.input({shape: [SEQ], dtype: 'int32'});
    const h = new TokenEmbedding({vocabSize: VOCAB, dModel: D}).apply(input) as tf.SymbolicTensor;
    const pooled = new MaskedMeanPool({}).apply([h, input]) as tf.SymbolicTensor;
    const bag = tf.model({
      inputs: input,
      outputs: tf.layers.dense({units: 2}).apply(pooled) as tf.SymbolicTensor,
    });
    await expect(pruneAttentionHeads(bag, 0.25)).rejects.toThrow(/no attention heads/);
    for (const m of [base, adapted, bag]) m.dispose();
  });
});
