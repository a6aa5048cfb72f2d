import {execFileSync} from 'node:child_process';
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {DatasetError, ModelError} from '../../src/errors.js';
import {countParameters} from '../../src/layers/walk-layers.js';
import {finetuneModel} from '../../src/lora/finetune-model.js';
import {
  buildCausalLM,
  CAUSAL_LM_PRESETS,
  DEFAULT_CAUSAL_LM_CONFIG,
} from '../../src/models/causal-lm/causal-lm.js';
import {buildClassifier, DEFAULT_CLASSIFIER_CONFIG} from '../../src/models/text-classifier/classifier.js';
import {trainClassifier} from '../../src/models/text-classifier/classifier-train.js';
import {loadRun} from '../../src/run/load-run.js';
import {finetune} from '../../src/workflows/finetune.js';
import {DEFAULT_LORA_TARGETS, type FinetuneOptions} from '../../src/workflows/finetune-options.js';
import {mergeAdapter} from '../../src/workflows/merge.js';
import {maxAbsDiff} from '../layers/layer-test-utils.js';

let dir: string;
const TINY = {maxLen: 32, dModel: 16, numHeads: 2, ffnHidden: 32, numLayers: 1, vocabSize: 400};
const lines = async (file: string, from: number, to: number) =>
  `${(await readFile(file, 'utf8')).split('\n').slice(from, to).join('\n')}\n`;

beforeAll(async () => {
  await initBackend();
  dir = await mkdtemp(join(tmpdir(), 'dsk-finetune-'));
  await writeFile(join(dir, 'tiny.json'), JSON.stringify(TINY));
  await writeFile(join(dir, 'base.jsonl'), await lines('fixtures/imdb/reviews.jsonl', 0, 240));
  await writeFile(join(dir, 'domain.jsonl'), await lines('fixtures/imdb/reviews.jsonl', 240, 400));
  await writeFile(join(dir, 'spam.jsonl'), await lines('fixtures/spam/emails.jsonl', 0, 120));
  await trainClassifier({
    data: join(dir, 'base.jsonl'),
    out: join(dir, 'base'),
    configFile: join(dir, 'tiny.json'),
    batchSize: 16,
    steps: 15,
    seed: 3,
  });
}, 120_000);
afterAll(() => rm(dir, {recursive: true, force: true}));

const options = (o: Partial<FinetuneOptions>): FinetuneOptions => ({
  model: join(dir, 'base'),
  data: join(dir, 'domain.jsonl'),
  out: join(dir, 'ft'),
  batchSize: 16,
  steps: 8,
  seed: 5,
  overwrite: true,
  ...o,
});

/** Logits of a run's model on the first `n` rows' ids. */
async function logits(runDir: string, ids: tf.Tensor): Promise<tf.Tensor> {
  const run = await loadRun(runDir);
  const out = run.model.predict(ids) as tf.Tensor;
  run.model.dispose();
  return out;
}

const ids = () => tf.randomUniform([6, TINY.maxLen], 1, 300, 'int32', 9);

describe('LoRA invariants', () => {
  it('a fresh adapter leaves predictions unchanged', async () => {
    const base = await loadRun(join(dir, 'base'));
    const {model, targets} = finetuneModel(base.model, {
      method: 'lora',
      lora: {rank: 8, alpha: 16},
      targets: DEFAULT_LORA_TARGETS,
      head: 'logits',
    });
    expect(targets).toEqual([
      'block0/attn/q',
      'block0/attn/k',
      'block0/attn/v',
      'block0/attn/o',
      'block0/ffn/down',
    ]);
    const x = ids();
    expect(await maxAbsDiff(base.model.predict(x) as tf.Tensor, model.predict(x) as tf.Tensor)).toBe(0);
    // Frozen base, trainable adapters and head only.
    expect(model.trainableWeights.every((w) => /lora_[ab]$|^logits\//.test(w.originalName))).toBe(true);
    tf.dispose(x);
    model.dispose();
    base.model.dispose();
  });

  it('trains ≤ 2% of the small classifier at rank 8 with the default targets (LM and MoE shapes reported)', () => {
    const shares: string[] = [];
    const lm = (preset: string) => {
      const config = {...DEFAULT_CAUSAL_LM_CONFIG, ...CAUSAL_LM_PRESETS[preset]};
      return () => buildCausalLM(config, config.vocabSize);
    };
    const moeClassifier = {...DEFAULT_CLASSIFIER_CONFIG, ffn: 'moe' as const};
    // [name, build, head, targets]: the README and the closing note quote these shares.
    const cases = [
      ['classifier small', () => buildClassifier(DEFAULT_CLASSIFIER_CONFIG, 8000, 2), 'logits'],
      ['classifier small (moe ffn)', () => buildClassifier(moeClassifier, 8000, 2), 'logits'],
      ['causal-lm small', lm('small'), undefined],
      ['causal-lm small-moe', lm('small-moe'), undefined],
      ['causal-lm small, targets attn/(q|v)$', lm('small'), undefined, 'attn/(q|v)$'],
    ] as const;
    const share: Record<string, number> = {};
    for (const [name, build, head, targets = DEFAULT_LORA_TARGETS] of cases) {
      const base = build();
      const {model} = finetuneModel(base, {
        method: 'lora',
        lora: {rank: 8},
        targets,
        head,
      });
      const trainable = model.trainableWeights.reduce(
        (n, w) => n + tf.util.sizeFromShape(w.shape as number[]),
        0,
      );
      share[name] = trainable / countParameters(model);
      shares.push(`${name}: ${trainable} of ${countParameters(model)} (${(100 * share[name]!).toFixed(2)}%)`);
      model.dispose();
      base.dispose();
    }
    console.log(`LoRA rank 8, default targets ${DEFAULT_LORA_TARGETS} unless named: ${shares.join('; ')}`);
    expect(share['classifier small']).toBeLessThanOrEqual(0.02);
  });

  it('saves a small adapter, loads base + adapter through loadRun, and merged equals unmerged to 1e-5', async () => {
    const out = join(dir, 'lora');
    const report = await finetune(options({out, merge: true, lr: 1e-2}));
    expect(report.method).toBe('lora');
    expect(report.trainable_params).toBeLessThan(report.total_params / 5);
    expect(report.validation?.val_acc).toBeGreaterThan(0);
    const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
    expect(config.adapter.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(report.adapter_bytes).toBeLessThan(40_000);
    // Checkpoints hold the adapters and head with their AdamW moments, not a copy of the frozen base.
    const bytes = async (d: string) =>
      Number(execFileSync('du', ['-sb', d], {encoding: 'utf8'}).split('\t')[0]);
    const baseModel = await bytes(join(dir, 'base', 'model'));
    expect(await bytes(join(out, 'checkpoints'))).toBeLessThan(baseModel);
    const x = ids();
    const [adapted, merged, base] = [
      await logits(out, x),
      await logits(report.merged!, x),
      await logits(join(dir, 'base'), x),
    ];
    expect(await maxAbsDiff(adapted, merged)).toBeLessThan(1e-5);
    expect(await maxAbsDiff(adapted, base)).toBeGreaterThan(1e-4);
    tf.dispose([x, adapted, merged, base]);
  });
});

describe('finetune: labels, bases, freezing', () => {
  it('refuses labels the base never saw, naming them and --new-head; --new-head replaces the head', async () => {
    const out = join(dir, 'spam');
    await expect(finetune(options({out, data: join(dir, 'spam.jsonl')}))).rejects.toThrow(DatasetError);
    await expect(finetune(options({out, data: join(dir, 'spam.jsonl')}))).rejects.toThrow(
      /labels "ham", "spam" not known.*neg, pos.*--new-head/,
    );
    const report = await finetune(options({out, data: join(dir, 'spam.jsonl'), newHead: true}));
    expect(report.labels).toEqual(['ham', 'spam']);
    expect(JSON.parse(await readFile(join(out, 'labels.json'), 'utf8'))).toEqual(['ham', 'spam']);
    const run = await loadRun(out);
    expect(run.labels).toEqual(['ham', 'spam']);
    const x = ids();
    expect((run.model.predict(x) as tf.Tensor).shape).toEqual([6, 2]);
    tf.dispose(x);
    run.model.dispose();
  });

  it('full fine-tuning with --freeze keeps the frozen layers fixed and trains the rest', async () => {
    const out = join(dir, 'full');
    const report = await finetune(options({out, method: 'full', freeze: 'embed|block0/attn$', lr: 1e-3}));
    expect(report.frozen).toEqual(['embed', 'block0/attn']);
    const base = await loadRun(join(dir, 'base'));
    const tuned = await loadRun(out);
    const before = new Map(base.model.weights.map((w) => [w.originalName, w.read()]));
    for (const w of tuned.model.weights) {
      const moved = (await maxAbsDiff(before.get(w.originalName)!, w.read())) > 0;
      expect([w.originalName, moved]).toEqual([
        w.originalName,
        !/^(embed|block0\/attn\/)/.test(w.originalName),
      ]);
    }
    base.model.dispose();
    tuned.model.dispose();
  });

  it('detects a changed base, and an adapter that does not fit names the layer and shapes', async () => {
    const out = join(dir, 'lora-moved');
    const other = join(dir, 'other-base');
    const trainOther = (seed: number) =>
      trainClassifier({
        data: join(dir, 'base.jsonl'),
        out: other,
        configFile: join(dir, 'tiny.json'),
        overrides: {dModel: 24},
        batchSize: 16,
        steps: 2,
        seed,
        overwrite: true,
      });
    await trainOther(3);
    await finetune(options({out, model: other, steps: 2}));
    // Retrain the base in place: the adapter's fingerprint no longer matches.
    await trainOther(4);
    await expect(loadRun(out)).rejects.toThrow(/changed since fine-tuning/);
    const notes: string[] = [];
    const merged = await mergeAdapter({
      model: other,
      adapter: out,
      out: join(dir, 'm0'),
      onInfo: (m) => notes.push(m),
    });
    expect(merged.same_base).toBe(false);
    expect(notes.join('\n')).toMatch(/warning: .* weights differ/);
    await expect(mergeAdapter({model: join(dir, 'base'), adapter: out, out: join(dir, 'm')})).rejects.toThrow(
      ModelError,
    );
    await expect(
      mergeAdapter({model: join(dir, 'base'), adapter: out, out: join(dir, 'm2')}),
    ).rejects.toThrow(/block0\/attn\/q.*\[24, 24\].*\[16, 16\]/);
  });
});

describe('finetune: a LoRA run as the base', () => {
  it('full fine-tuning starts from the fused model; another adapter on top is refused with the fix', async () => {
    const lora = join(dir, 'lora');
    await expect(finetune(options({model: lora, out: join(dir, 'lora2')}))).rejects.toThrow(/merge it first/);
    const report = await finetune(
      options({model: lora, out: join(dir, 'lora-full'), method: 'full', steps: 2}),
    );
    expect(report.trainable_params).toBe(report.total_params);
    const config = JSON.parse(await readFile(join(dir, 'lora-full', 'config.json'), 'utf8'));
    expect(config.finetune.base.fingerprint).toMatch(/^sha256:/);
    expect(config.adapter).toBeUndefined();
  });
});

describe('finetune: resume', () => {
  it('an interrupted run resumed with --resume ends with the same metrics as an uninterrupted one', async () => {
    const whole = await finetune(options({out: join(dir, 'whole'), steps: 16, lr: 5e-3}));
    const controller = new AbortController();
    const cut = await finetune(
      options({
        out: join(dir, 'cut'),
        steps: 16,
        lr: 5e-3,
        signal: controller.signal,
        onStep: (e) => {
          if (e.step >= 8) controller.abort();
        },
      }),
    );
    expect(cut.stopped_by).toBe('aborted');
    expect(cut.steps).toBeLessThan(16);
    const resumed = await finetune(
      options({out: join(dir, 'cut'), steps: 16, lr: 5e-3, resume: true, overwrite: false}),
    );
    expect(resumed.resumed_from).toBe(cut.steps);
    expect(resumed.steps).toBe(16);
    expect(resumed.validation!.val_loss).toBeCloseTo(whole.validation!.val_loss!, 5);
    expect(resumed.validation!.val_acc).toBe(whole.validation!.val_acc);
  });
});
