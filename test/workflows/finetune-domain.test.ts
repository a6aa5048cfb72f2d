import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {holdout, type LabeledRow} from '../../src/models/classify/labeled-data.js';
import {trainClassifier} from '../../src/models/text-classifier/classifier-train.js';
import {evaluateRun} from '../../src/workflows/evaluate.js';
import {finetune} from '../../src/workflows/finetune.js';
import type {FinetuneOptions} from '../../src/workflows/finetune-options.js';

/**
 * Domain shift on Reuters-21578: the base learns corporate news (earn, acq, crude) with a tokenizer
 * trained on it; the fine-tune target is macro-economic news (trade, money-fx, interest), a label
 * set and vocabulary the base never saw, so the head is replaced (--new-head). Accuracy on held-out
 * target rows: head only (base body frozen: what the base's features give), LoRA, full.
 */
describe('finetune under a domain shift (Reuters topics)', () => {
  let dir: string;
  const SOURCE = new Set(['earn', 'acq', 'crude']);
  beforeAll(async () => {
    await initBackend();
    dir = await mkdtemp(join(tmpdir(), 'dsk-ft-domain-'));
    const rows = (await readFile('fixtures/reuters/news.jsonl', 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as LabeledRow & {id: string});
    const jsonl = (rs: object[]) => `${rs.map((r) => JSON.stringify(r)).join('\n')}\n`;
    const target = rows.filter((r) => !SOURCE.has(r.label));
    const {train, val} = holdout(target, 0.3);
    await writeFile(join(dir, 'source.jsonl'), jsonl(rows.filter((r) => SOURCE.has(r.label))));
    await writeFile(join(dir, 'target-train.jsonl'), jsonl(train));
    await writeFile(join(dir, 'target-test.jsonl'), jsonl(val));
  });
  afterAll(() => rm(dir, {recursive: true, force: true}));

  // The bar: LoRA recovers most of full fine-tuning's gain, ≥ 65%. It was 90%, which held for base
  // seed 7 with tf.dropout's JS masks (96%) but not for base seeds 8 and 9 (82%, 73%); with the
  // masks TensorFlow draws from the step seed (src/backend/dropout.ts) seeds 7, 8, 9 give 74%, 78%,
  // 79% (2026-12-07, the test with its base seed edited): the base's draw moves it by ±12 points.
  it('LoRA recovers ≥ 65% of full fine-tuning’s gain over the base’s features', async () => {
    const started = performance.now();
    const base = join(dir, 'base');
    await trainClassifier({
      data: join(dir, 'source.jsonl'),
      out: base,
      preset: 'tiny',
      epochs: 4,
      lr: 3e-3,
      batchSize: 16,
      seed: 7,
      patience: 0, // all 4 epochs: the features the fine-tuning methods are compared on
    });
    const baseEval = await evaluateRun({model: base, data: join(dir, 'source.jsonl')});
    // Each method at its own learning rate, the same 12 epochs, averaged over two fine-tuning seeds
    // (123 test rows). LoRA at 1e-2, as the head: at 3e-2 its run was chaotic, a 7e-8 change in the
    // first gradient norm (fused vs composed cross-entropy) grew into a different run by step 30, and
    // its accuracy over seeds 11-20 spread from 80.5% to 89.4% (mean 84.2%) with the composed ops
    // alone; at 1e-2 the native and composed losses stay within 4e-5 over all 192 steps and each seed
    // lands on the same accuracy (seeds 11-16: 83.7-88.6%, DSK_NATIVE_OPS=none vs all).
    const seeds = [11, 12];
    const tune = async (name: string, o: Partial<FinetuneOptions>) => {
      let accuracy = 0;
      let share = 0;
      for (const seed of seeds) {
        const out = join(dir, `${name}-${seed}`);
        const report = await finetune({
          model: base,
          data: join(dir, 'target-train.jsonl'),
          val: join(dir, 'target-test.jsonl'),
          out,
          newHead: true,
          epochs: 12,
          batchSize: 16,
          seed,
          ...o,
        });
        accuracy += (await evaluateRun({model: out, data: join(dir, 'target-test.jsonl')})).accuracy;
        share = report.trainable_params / report.total_params;
      }
      return {accuracy: accuracy / seeds.length, share};
    };
    const headOnly = await tune('head', {method: 'full', freeze: '^(embed|block\\d+)$', lr: 1e-2});
    const lora = await tune('lora', {method: 'lora', lr: 1e-2});
    const full = await tune('full', {method: 'full', lr: 1e-3});
    const recovered = (lora.accuracy - headOnly.accuracy) / (full.accuracy - headOnly.accuracy);
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
    console.log(
      `Reuters domain shift (tiny classifier; base ${pct(baseEval.accuracy)} on its own training data): target test accuracy, mean of ${seeds.length} seeds — ` +
        `head only ${pct(headOnly.accuracy)} (${pct(headOnly.share)} trained), ` +
        `LoRA ${pct(lora.accuracy)} (${pct(lora.share)} trained), full ${pct(full.accuracy)}; ` +
        `LoRA recovers ${pct(recovered)} of full fine-tuning's gain (${((performance.now() - started) / 1000).toFixed(0)} s)`,
    );
    expect(full.accuracy).toBeGreaterThan(headOnly.accuracy);
    expect(recovered).toBeGreaterThanOrEqual(0.65);
  }, 180_000);
});
