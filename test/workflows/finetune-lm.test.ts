import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {ConfigError} from '../../src/errors.js';
import {trainLanguageModel} from '../../src/models/causal-lm/causal-lm-train.js';
import type {LanguageModelEvaluation} from '../../src/models/model-kind.js';
import {loadRun} from '../../src/run/load-run.js';
import {evaluateRun} from '../../src/workflows/evaluate.js';
import {finetune} from '../../src/workflows/finetune.js';
import {maxAbsDiff} from '../layers/layer-test-utils.js';

/** The language-model hook: next-token windows of the base's tokenizer, its loss, perplexity. */
describe('finetune on a language-model run', () => {
  let dir: string;
  const SOTU = 'fixtures/text/sotu.jsonl';
  beforeAll(async () => {
    await initBackend();
    dir = await mkdtemp(join(tmpdir(), 'dsk-ft-lm-'));
    const config = join(dir, 'lm.json');
    await writeFile(
      config,
      JSON.stringify({
        contextLength: 32,
        dModel: 32,
        numLayers: 1,
        numHeads: 2,
        ffnHidden: 64,
        tokenizerKind: 'byte',
      }),
    );
    await trainLanguageModel({
      data: 'fixtures/text/moby-dick.txt',
      out: join(dir, 'base'),
      configFile: config,
      steps: 10,
      batchSize: 8,
      seed: 2,
    });
  }, 120_000);
  afterAll(() => rm(dir, {recursive: true, force: true}));

  it('LoRA on Moby-Dick → State of the Union lowers perplexity on the new text; the run evaluates; merged equals unmerged', async () => {
    const out = join(dir, 'sotu');
    const before = (await evaluateRun({model: join(dir, 'base'), data: SOTU})) as LanguageModelEvaluation;
    const report = await finetune({
      model: join(dir, 'base'),
      data: SOTU,
      out,
      steps: 30,
      batchSize: 8,
      lr: 1e-2,
      merge: true,
      seed: 3,
    });
    expect(report.task).toBe('lm');
    expect(report.targets).toEqual([
      'block0/attn/q',
      'block0/attn/k',
      'block0/attn/v',
      'block0/attn/o',
      'block0/ffn/down',
    ]);
    expect(report.validation?.val_ppl).toBeCloseTo(Math.exp(report.validation!.val_loss!), 6);
    const after = (await evaluateRun({model: out, data: SOTU})) as LanguageModelEvaluation;
    console.log(
      `LM ${report.trainable_params} of ${report.total_params} trained: SOTU perplexity ${before.perplexity.toFixed(2)} → ${after.perplexity.toFixed(2)}`,
    );
    expect(after.perplexity).toBeLessThan(before.perplexity);
    const [adapted, merged] = [await loadRun(out), await loadRun(report.merged!)];
    const x = tf.randomUniform([2, 32], 0, 255, 'int32', 4);
    expect(
      await maxAbsDiff(adapted.model.predict(x) as tf.Tensor, merged.model.predict(x) as tf.Tensor),
    ).toBeLessThan(1e-5);
    tf.dispose(x);
    adapted.model.dispose();
    merged.model.dispose();
  }, 120_000);

  it('refuses --new-head on a language model', async () => {
    await expect(
      finetune({model: join(dir, 'base'), data: SOTU, out: join(dir, 'x'), newHead: true, steps: 1}),
    ).rejects.toThrow(ConfigError);
  });
});
