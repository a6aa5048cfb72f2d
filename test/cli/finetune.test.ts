import {mkdtemp, readdir, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {runCli} from '../helpers/cli.js';

const TRAIN = 'fixtures/imdb/reviews.jsonl';
const TEST = 'fixtures/imdb/test.jsonl';
const unwrap = (text: string) => text.replace(/\s*\n\s*›\s*/g, ' ');

describe('deepseek-kit finetune', () => {
  let root: string;
  let base: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'dsk-finetune-cli-'));
    base = join(root, 'base');
    const config = join(root, 'tiny.json');
    await writeFile(
      config,
      JSON.stringify({maxLen: 48, dModel: 16, numHeads: 2, ffnHidden: 32, numLayers: 1}),
    );
    const trained = runCli(['train', '--data', TRAIN, '--out', base, '--config', config, '--steps', '20']);
    expect(trained.code, trained.stderr).toBe(0);
  }, 120_000);

  afterAll(() => rm(root, {recursive: true, force: true}));

  it('LoRA --json: parameter counts and metrics; the run folder evaluates and predicts like any run', async () => {
    const out = join(root, 'lora');
    const r = runCli(['finetune', '--model', base, '--data', TEST, '--out', out, '--steps', '10', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.method).toBe('lora');
    expect(report.trainable_params).toBeGreaterThan(0);
    expect(report.trainable_params).toBeLessThan(report.total_params * 0.05);
    expect(report.validation.val_acc).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/LoRA rank 8 on 5 layers: [\d,]+ of [\d,]+ parameters trainable/);
    expect((await readdir(join(out, 'adapter'))).sort()).toEqual([
      'adapter.json',
      'adapter.weights.bin',
      'head.json',
      'head.weights.bin',
    ]);
    const evaluated = runCli(['evaluate', '--model', out, '--data', TEST, '--json']);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    expect(JSON.parse(evaluated.stdout).accuracy).toBeGreaterThan(0.4);
    const predicted = runCli(['predict', '--model', out], {input: '{"text":"a wonderful, moving film"}\n'});
    expect(predicted.code, predicted.stderr).toBe(0);
    expect(JSON.parse(predicted.stdout).label).toMatch(/^(pos|neg)$/);

    // merge later gives the same predictions as the adapter run.
    const merged = join(root, 'merged');
    const m = runCli(['merge', '--model', base, '--adapter', out, '--out', merged, '--json']);
    expect(m.code, m.stderr).toBe(0);
    expect(JSON.parse(m.stdout).layers).toHaveLength(5);
    const again = runCli(['evaluate', '--model', merged, '--data', TEST, '--json']);
    expect(JSON.parse(again.stdout).accuracy).toBe(JSON.parse(evaluated.stdout).accuracy);
  }, 120_000);

  it('human output; full fine-tuning with --freeze and --merge', () => {
    const out = join(root, 'full');
    const r = runCli([
      'finetune',
      '--model',
      base,
      '--data',
      TEST,
      '--out',
      out,
      '--method',
      'full',
      '--freeze',
      'embed',
      '--steps',
      '4',
      '--merge',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/fine-tuned .* \(full\) .* parameters trained/);
    expect(r.stderr).toMatch(/frozen: embed/);
    // Full fine-tuning writes a plain model: --merge is a copy of it that loads the same way.
    const evaluated = runCli(['evaluate', '--model', join(out, 'merged'), '--data', TEST, '--json']);
    expect(evaluated.code, evaluated.stderr).toBe(0);
  }, 60_000);

  it('input errors exit 1 with the fix', () => {
    const spam = runCli([
      'finetune',
      '--model',
      base,
      '--data',
      'fixtures/spam/emails.jsonl',
      '--out',
      join(root, 's'),
    ]);
    expect(spam.code).toBe(1);
    expect(unwrap(spam.stderr)).toMatch(/labels "ham", "spam" not known .*--new-head/);
    const noTarget = runCli([
      'finetune',
      '--model',
      base,
      '--data',
      TEST,
      '--out',
      join(root, 't'),
      '--targets',
      'nope',
    ]);
    expect(noTarget.code).toBe(1);
    expect(unwrap(noTarget.stderr)).toMatch(/match no layer/);
    const notLoRA = runCli(['merge', '--model', base, '--adapter', base, '--out', join(root, 'x')]);
    expect(notLoRA.code).toBe(1);
    expect(unwrap(notLoRA.stderr)).toMatch(/not a LoRA run/);
  }, 60_000);
});
