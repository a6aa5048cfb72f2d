import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../../src/backend/backend.js';
import {ConfigError} from '../../../src/errors.js';
import {trainLanguageModel} from '../../../src/models/causal-lm/causal-lm-train.js';
import type {DistillOptions} from '../../../src/models/distill-options.js';
import {loadRun} from '../../../src/run/load-run.js';
import {distill} from '../../../src/workflows/distill.js';

let dir: string;
let teacher: string;
let text: string;

beforeAll(async () => {
  await initBackend();
  dir = await mkdtemp(join(tmpdir(), 'dsk-distill-lm-'));
  text = join(dir, 'moby.txt');
  await writeFile(text, (await readFile('fixtures/text/moby-dick.txt', 'utf8')).slice(20_000, 80_000));
  teacher = join(dir, 'teacher');
  await trainLanguageModel({
    data: text,
    out: teacher,
    preset: 'tiny',
    overrides: {tokenizerKind: 'byte'},
    steps: 150,
    lr: 3e-3,
    seed: 1,
  });
}, 180_000);
afterAll(() => rm(dir, {recursive: true, force: true}));

const options = (out: string, extra: Partial<DistillOptions> = {}): DistillOptions => ({
  teacher,
  data: text,
  out: join(dir, out),
  preset: 'tiny',
  overrides: {dModel: 32, numLayers: 1, ffnHidden: 88},
  steps: 150,
  lr: 3e-3,
  seed: 2,
  ...extra,
});

describe('distill a language model on next-token distributions', () => {
  it('trains a smaller LM student on the teacher’s tokenizer and reports both perplexities', async () => {
    const report = await distill(options('student', {temperature: 2, alpha: 0.8}));
    expect(report.task).toBe('lm');
    expect(report.steps).toBe(150);
    expect(report.tokenizer_source).toBe('teacher');
    expect(report.parameter_ratio).toBeLessThan(0.5);
    expect(report.teacher.validation?.val_ppl).toBeGreaterThan(1);
    expect(report.validation?.val_ppl).toBeCloseTo(Math.exp(report.validation!.val_loss!), 6);
    const run = await loadRun(report.out);
    expect(run.config.task).toBe('lm');
    expect((run.config.model as {vocabSize: number}).vocabSize).toBe(run.tokenizer!.vocabSize);
    expect((run.config.distill as {alpha: number}).alpha).toBe(0.8);
    run.model.dispose();
    // Without the teacher (alpha 0), the same student, seed and steps.
    const alone = await distill(options('alone', {alpha: 0}));
    console.log(
      `LM distillation on Moby-Dick bytes (${report.parameters} vs ${report.teacher.parameters} params): val ppl teacher ` +
        `${report.teacher.validation!.val_ppl!.toFixed(2)}, student distilled ${report.validation!.val_ppl!.toFixed(2)}, ` +
        `alone ${alone.validation!.val_ppl!.toFixed(2)}`,
    );
    expect(Number.isFinite(alone.validation!.val_ppl)).toBe(true);
  });

  it('refuses another vocabulary, the logit cache, and windows longer than the teacher’s', async () => {
    await expect(distill(options('x', {vocabSize: 500}))).rejects.toThrow(
      /must read the teacher's tokenizer/,
    );
    await expect(distill(options('x', {cacheTeacher: true}))).rejects.toThrow(ConfigError);
    await expect(distill(options('x', {overrides: {dModel: 32, numLayers: 1, maxLen: 128}}))).rejects.toThrow(
      /contextLength 128 is longer than the teacher's 64/,
    );
  });
});
