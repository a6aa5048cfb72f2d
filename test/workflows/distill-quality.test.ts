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
 * The labelled reviews plus a transfer set: 4 EDA copies of each (the kit's `augment`, 20% of the
 * words changed) with their labels dropped, so only a teacher can say what they are.
 */
async function transferFile(): Promise<string> {
  const lines: string[] = [];
  for await (const doc of augmentDocs(readDocs({input: TRAIN}), {numAug: 4, alpha: 0.2, seed: 7})) {
    lines.push(JSON.stringify(doc.fields.augmented ? {text: doc.text} : {text: doc.text, label: doc.label}));
  }
  const path = join(dir, 'reviews-transfer.jsonl');
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

describe('distillation on the IMDB fixture', () => {
  it('a student with a quarter of the teacher’s parameters keeps ≥ 95% of its accuracy and beats itself trained without it', async () => {
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
    // Without the teacher: alpha 0 is cross-entropy on the labelled rows alone, same config, seed, steps —
    // on the same file, and on the labelled reviews only (every batch full of labels).
    const alone = await distill(student('alone', {alpha: 0}));
    const aloneLabelled = await distill(student('alone-labelled', {alpha: 0, data: TRAIN}));
    const acc = async (run: string) => (await evaluateRun({model: run, data: TEST})).accuracy;
    const [tAcc, dAcc, aAcc, lAcc] = [
      await acc(teacher),
      await acc(distilled.out),
      await acc(alone.out),
      await acc(aloneLabelled.out),
    ];
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `IMDB test accuracy: teacher ${tAcc.toFixed(3)} (${distilled.teacher.parameters} params); student ` +
        `${distilled.parameters} params (${(100 * distilled.parameter_ratio).toFixed(1)}%): distilled ` +
        `${dAcc.toFixed(3)} (${((100 * dAcc) / tAcc).toFixed(1)}% of the teacher), without the teacher ` +
        `${aAcc.toFixed(3)} (same file) / ${lAcc.toFixed(3)} (labelled reviews only); ${seconds.toFixed(0)} s`,
    );
    expect(distilled.unlabeled_examples).toBeGreaterThan(7000);
    expect(distilled.parameter_ratio).toBeLessThanOrEqual(0.3);
    expect(tAcc).toBeGreaterThan(0.84); // a real teacher
    expect(dAcc).toBeGreaterThanOrEqual(0.95 * tAcc);
    expect(dAcc).toBeGreaterThan(aAcc);
    expect(dAcc).toBeGreaterThan(lAcc);
  }, 300_000);
});
