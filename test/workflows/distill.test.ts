import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {DatasetError, ModelError} from '../../src/errors.js';
import type {DistillOptions} from '../../src/models/distill-options.js';
import {encodeTexts} from '../../src/models/text-classifier/classifier.js';
import {asClassifierRun} from '../../src/models/text-classifier/classifier-run.js';
import {trainClassifier} from '../../src/models/text-classifier/classifier-train.js';
import {
  computeTeacherLogits,
  TEACHER_CACHE_FILES,
  teacherCacheKey,
} from '../../src/models/text-classifier/teacher-cache.js';
import {loadRun} from '../../src/run/load-run.js';
import {distill} from '../../src/workflows/distill.js';

let dir: string;
let teacher: string;
let data: string;
const student = {preset: 'tiny', overrides: {dModel: 16, ffnHidden: 40}, vocabSize: 500};

beforeAll(async () => {
  await initBackend();
  dir = await mkdtemp(join(tmpdir(), 'dsk-distill-'));
  const rows = (await readFile('fixtures/imdb/reviews.jsonl', 'utf8')).trim().split('\n').slice(0, 240);
  // Every third row loses its label: a transfer row the teacher alone teaches.
  const mixed = rows.map((line, i) => {
    const row = JSON.parse(line) as {text: string; label?: string};
    if (i % 3 === 2) delete row.label;
    return JSON.stringify(row);
  });
  data = join(dir, 'mixed.jsonl');
  await writeFile(data, `${mixed.join('\n')}\n`);
  teacher = join(dir, 'teacher');
  await trainClassifier({
    data: 'fixtures/imdb/reviews.jsonl',
    out: teacher,
    preset: 'tiny',
    steps: 15,
    seed: 3,
  });
}, 120_000);
afterAll(() => rm(dir, {recursive: true, force: true}));

const options = (out: string, extra: Partial<DistillOptions> = {}): DistillOptions => ({
  teacher,
  data,
  out: join(dir, out),
  ...student,
  steps: 8,
  batchSize: 16,
  seed: 5,
  ...extra,
});

describe('distill', () => {
  it('trains a smaller student on labelled and transfer rows and reports both models', async () => {
    const report = await distill(options('small', {cacheTeacher: true}));
    expect(report.task).toBe('classify');
    expect(report.steps).toBe(8);
    expect(report.unlabeled_examples).toBe(80);
    expect(report.train_examples + report.val_examples).toBe(240);
    expect(report.parameters).toBeLessThan(report.teacher.parameters);
    expect(report.parameter_ratio).toBeCloseTo(report.parameters / report.teacher.parameters, 9);
    expect(report.tokenizer_source).toBe('own'); // vocabulary 500 ≠ the teacher's 2000
    expect(report.teacher_cache).toBe('computed');
    expect(report.validation?.val_acc).toBeGreaterThanOrEqual(0);
    expect(report.teacher.validation?.val_acc).toBeGreaterThan(0.4);
    // A run folder the other commands read: classifier config, the teacher's labels.
    const run = asClassifierRun(await loadRun(report.out));
    expect(run.labels).toEqual(['neg', 'pos']);
    expect(run.config.dModel).toBe(16);
    expect(run.model.countParams()).toBe(report.parameters);
    run.model.dispose();
  });

  it('caches the teacher logits it would compute per batch, keyed by teacher and data', async () => {
    const out = join(dir, 'small');
    const manifest = JSON.parse(await readFile(join(out, TEACHER_CACHE_FILES.manifest), 'utf8'));
    const bytes = await readFile(join(out, TEACHER_CACHE_FILES.logits));
    const cached = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    const t = asClassifierRun(await loadRun(teacher));
    const texts = (await readFile(data, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as {text: string}).text);
    expect(manifest.classes).toBe(2);
    expect(cached.length).toBe(manifest.rows * 2);
    // Each cached row is the teacher's logits for a text of the file (the training rows, by the holdout).
    const ids = await encodeTexts(t.tokenizer, texts, t.config.maxLen);
    const fresh = await computeTeacherLogits(t, ids, texts.length);
    const rowsOf = (a: Float32Array) =>
      Array.from({length: a.length / 2}, (_, i) => `${a[2 * i]!.toFixed(4)},${a[2 * i + 1]!.toFixed(4)}`);
    const all = new Set(rowsOf(fresh));
    for (const row of rowsOf(cached)) expect(all.has(row)).toBe(true);
    // The key changes with the data the teacher reads.
    const other = await encodeTexts(t.tokenizer, texts.slice(1), t.config.maxLen);
    expect(await teacherCacheKey(t, other)).not.toBe(manifest.key);
    expect(await teacherCacheKey(t, ids)).toBe(await teacherCacheKey(t, ids));
    t.model.dispose();
  });

  it('resumes a stopped run to the same final metrics, reading the cached teacher logits', async () => {
    const straight = await distill(options('straight', {cacheTeacher: true}));
    const controller = new AbortController();
    const stopped = await distill(
      options('resumed', {
        cacheTeacher: true,
        checkpointEvery: 2,
        signal: controller.signal,
        onStep: (e) => {
          if (e.step >= 4) controller.abort();
        },
      }),
    );
    expect(stopped.steps).toBeLessThan(8);
    const resumed = await distill(options('resumed', {cacheTeacher: true, resume: true}));
    expect(resumed.teacher_cache).toBe('reused');
    expect(resumed.resumed_from).toBeGreaterThan(0);
    expect(resumed.steps).toBe(8);
    expect(resumed.final_loss).toBeCloseTo(straight.final_loss, 4);
    expect(resumed.validation?.val_loss).toBeCloseTo(straight.validation!.val_loss!, 4);
  });

  it('computes teacher logits on the fly to the same run as with the cache', async () => {
    const onTheFly = await distill(options('fly'));
    const cached = await distill(options('cached', {cacheTeacher: true}));
    expect(onTheFly.teacher_cache).toBe('off');
    expect(onTheFly.validation?.val_loss).toBeCloseTo(cached.validation!.val_loss!, 4);
  });

  it('reuses the teacher tokenizer when the student asks for the same vocabulary', async () => {
    const report = await distill(options('same-vocab', {vocabSize: undefined, steps: 2}));
    expect(report.tokenizer_source).toBe('teacher');
  });

  it('refuses labels the teacher does not know, a missing teacher, and class weights', async () => {
    const bad = join(dir, 'bad.jsonl');
    await writeFile(
      bad,
      `${JSON.stringify({text: 'fine film', label: 'pos'})}\n${JSON.stringify({text: 'meh', label: 'meh'})}\n`,
    );
    await expect(distill(options('bad', {data: bad}))).rejects.toThrow(DatasetError);
    await expect(distill(options('bad', {data: bad}))).rejects.toThrow(
      /label "meh" is not one of the teacher's.*neg, pos/,
    );
    await expect(distill(options('bad', {teacher: join(dir, 'nope')}))).rejects.toThrow(ModelError);
    await expect(distill(options('bad', {classWeights: 'balanced'}))).rejects.toThrow(/no class weights/);
  });
});
