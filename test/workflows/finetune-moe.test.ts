import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {readAdapter} from '../../src/lora/lora-adapter.js';
import {adaptedPaths} from '../../src/lora/lora-model.js';
import {trainClassifier} from '../../src/models/text-classifier/classifier-train.js';
import {ADAPTER_DIR} from '../../src/run/adapter-run.js';
import {loadRun} from '../../src/run/load-run.js';
import {finetune} from '../../src/workflows/finetune.js';
import {mergeAdapter} from '../../src/workflows/merge.js';
import {maxAbsDiff} from '../layers/layer-test-utils.js';

let dir: string;
// One MoE block: 4 routed SwiGLU experts of 16 (top-2) + 1 shared.
const TINY_MOE = {
  maxLen: 32,
  dModel: 16,
  numHeads: 2,
  numLayers: 1,
  vocabSize: 400,
  ffn: 'moe',
  moe: {numExperts: 4, topK: 2, expertHidden: 16, numShared: 1},
};

beforeAll(async () => {
  await initBackend();
  dir = await mkdtemp(join(tmpdir(), 'dsk-finetune-moe-'));
  const rows = (await readFile('fixtures/imdb/reviews.jsonl', 'utf8')).split('\n');
  await writeFile(join(dir, 'tiny-moe.json'), JSON.stringify(TINY_MOE));
  await writeFile(join(dir, 'base.jsonl'), `${rows.slice(0, 200).join('\n')}\n`);
  await writeFile(join(dir, 'domain.jsonl'), `${rows.slice(200, 360).join('\n')}\n`);
  await trainClassifier({
    data: join(dir, 'base.jsonl'),
    out: join(dir, 'base'),
    configFile: join(dir, 'tiny-moe.json'),
    batchSize: 16,
    steps: 10,
    seed: 3,
  });
}, 120_000);
afterAll(() => rm(dir, {recursive: true, force: true}));

/** Logits of a run's model on `ids`. */
async function logits(runDir: string, ids: tf.Tensor): Promise<tf.Tensor> {
  const run = await loadRun(runDir);
  const out = run.model.predict(ids) as tf.Tensor;
  run.model.dispose();
  return out;
}

describe('finetune --method lora on an MoE classifier', () => {
  it('adapts the experts, trains only adapters and head, changes predictions; merge predicts as base + adapter', async () => {
    const out = join(dir, 'lora');
    const report = await finetune({
      model: join(dir, 'base'),
      data: join(dir, 'domain.jsonl'),
      out,
      batchSize: 16,
      steps: 8,
      seed: 5,
      lr: 1e-2,
      overwrite: true,
    });
    expect(report.targets).toEqual([
      'block0/attn/q',
      'block0/attn/k',
      'block0/attn/v',
      'block0/attn/o',
      'block0/ffn/experts/down',
      'block0/ffn/shared/down',
    ]);
    // rank 8: attention 4·(16·8 + 8·16); experts/down 4·(16·8 + 8·16); shared/down 16·8 + 8·16;
    // the head 16·2 + 2.
    expect(report.trainable_params).toBe(4 * 256 + 4 * 256 + 256 + 34);
    console.log(
      `finetune LoRA on a 1-block MoE classifier: ${report.trainable_params} of ${report.total_params} trainable, ` +
        `val ${JSON.stringify(report.validation)}`,
    );

    // The expert adapters trained: every routed expert's B left zero would make them a no-op.
    const adapter = await readAdapter(join(out, ADAPTER_DIR));
    const b = adapter.weights['block0/ffn/experts/down/lora_b']!;
    expect(b.shape).toEqual([4, 8, 16]);
    const perExpert = tf.tidy(() => tf.max(tf.abs(b), [1, 2]).arraySync() as number[]);
    expect(perExpert.filter((v) => v > 0).length).toBeGreaterThanOrEqual(2);
    tf.dispose(Object.values(adapter.weights));

    const tuned = await loadRun(out);
    expect(adaptedPaths(tuned.model)).toEqual(report.targets);
    tuned.model.dispose();

    const merged = await mergeAdapter({model: join(dir, 'base'), adapter: out, out: join(dir, 'merged')});
    expect(merged.same_base).toBe(true);
    const mergedConfig = await readFile(join(dir, 'merged', 'model', 'model.json'), 'utf8');
    expect(mergedConfig).not.toMatch(/lora_[ab]|"rank"/);

    const ids = tf.randomUniform([6, TINY_MOE.maxLen], 1, 300, 'int32', 9);
    const [adapted, fused, base] = [
      await logits(out, ids),
      await logits(join(dir, 'merged'), ids),
      await logits(join(dir, 'base'), ids),
    ];
    expect(await maxAbsDiff(adapted, fused)).toBeLessThan(1e-5);
    expect(await maxAbsDiff(adapted, base)).toBeGreaterThan(1e-4);
    tf.dispose([ids, adapted, fused, base]);
  }, 120_000);
});
