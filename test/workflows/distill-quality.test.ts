import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {augmentDocs} from '../../src/data/augment.js';
import {readDocs} from '../../src/data/io/read-docs.js';
import type {DistillOptions} from '../../src/models/distill-options.js';
import {trainClassifier} from '../../src/models/text-classifier/classifier-train.js';
import {distill} from '../../src/workflows/distill.js';
import {evaluateRun} from '../../src/workflows/evaluate.js';

let dir: string;
const TRAIN = 'fixtures/imdb/reviews.jsonl';
const TEST = 'fixtures/imdb/test.jsonl';

beforeAll(async () => {
  await initBackend();
  dir = await mkdtemp(join(tmpdir(), 'dsk-distill-quality-'));
});
afterAll(() => rm(dir, {recursive: true, force: true}));

/**
 * The transfer set of a common case: a teacher trained on every label, a student that has only one
 * review in ten labelled. The other reviews and 2 EDA copies of each (the kit's `augment`, 20% of
 * the words changed) come without labels, so only the teacher can say what they are.
 */
async function transferFile(): Promise<string> {
  const lines: string[] = [];
  let row = 0;
  for await (const doc of augmentDocs(readDocs({input: TRAIN}), {numAug: 2, alpha: 0.2, seed: 7})) {
    const labelled = !doc.fields.augmented && row++ % 10 === 0;
    lines.push(JSON.stringify(labelled ? {text: doc.text, label: doc.label} : {text: doc.text}));
  }
  const path = join(dir, 'reviews-transfer.jsonl');
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

describe('distillation on the IMDB fixture', () => {
  it('a student with a quarter of the teacher’s parameters and one label in ten keeps ≥ 95% of its accuracy, 5 points above itself trained without it', async () => {
    const teacher = join(dir, 'teacher');
    const started = performance.now();
    await trainClassifier({data: TRAIN, out: teacher, preset: 'bag', epochs: 10, lr: 3e-3, patience: 2});
    const transfer = await transferFile();
    // The bag preset with a 4,000-word vocabulary instead of 16,000: 25% of the parameters.
    const student = (out: string, extra: Partial<DistillOptions>): DistillOptions => ({
      teacher,
      data: transfer,
      val: undefined,
      out: join(dir, out),
      preset: 'bag',
      vocabSize: 4000,
      steps: 600,
      lr: 3e-3,
      batchSize: 32,
      seed: 42,
      cacheTeacher: true,
      ...extra,
    });
    const distilled = await distill(student('distilled', {temperature: 2, alpha: 0.5}));
    // Without the teacher: alpha 0 is cross-entropy on the labelled rows alone; same file, config,
    // seed and steps.
    const alone = await distill(student('alone', {alpha: 0}));
    const acc = async (run: string) => (await evaluateRun({model: run, data: TEST})).accuracy;
    const [tAcc, dAcc, aAcc] = [await acc(teacher), await acc(distilled.out), await acc(alone.out)];
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `IMDB test accuracy: teacher ${tAcc.toFixed(3)} (${distilled.teacher.parameters} params, every label); ` +
        `student ${distilled.parameters} params (${(100 * distilled.parameter_ratio).toFixed(1)}%), one label ` +
        `in ten: distilled ${dAcc.toFixed(3)} (${((100 * dAcc) / tAcc).toFixed(1)}% of the teacher), without ` +
        `the teacher ${aAcc.toFixed(3)}; ${seconds.toFixed(0)} s`,
    );
    expect(distilled.unlabeled_examples).toBeGreaterThan(5000);
    expect(distilled.parameter_ratio).toBeLessThanOrEqual(0.3);
    expect(tAcc).toBeGreaterThan(0.84); // a real teacher
    expect(dAcc).toBeGreaterThanOrEqual(0.95 * tAcc);
    // 1,000 test reviews: a 5-point gap is 50 reviews, beyond what float order on another CPU moves.
    expect(dAcc).toBeGreaterThanOrEqual(aAcc + 0.05);
  }, 300_000);
});
