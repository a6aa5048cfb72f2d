import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {quantizeRun} from '../../src/compress/quantize-run.js';
import {ConfigError} from '../../src/errors.js';
import {trainClassifier} from '../../src/models/classifier-train.js';
import {finetune} from '../../src/models/finetune.js';
import {readRunConfig} from '../../src/models/run-folder.js';

/** finetune --qat: quantization-aware full fine-tuning of a classifier run. */
describe('finetune --qat', () => {
  let dir: string;
  beforeAll(async () => {
    await initBackend();
    dir = await mkdtemp(join(tmpdir(), 'dsk-qat-'));
    const rows = (await readFile('fixtures/imdb/reviews.jsonl', 'utf8')).split('\n');
    await writeFile(join(dir, 'base.jsonl'), `${rows.slice(0, 300).join('\n')}\n`);
    await writeFile(join(dir, 'more.jsonl'), `${rows.slice(300, 500).join('\n')}\n`);
    await writeFile(join(dir, 'val.jsonl'), `${rows.slice(500, 600).join('\n')}\n`);
    await trainClassifier({
      data: join(dir, 'base.jsonl'),
      out: join(dir, 'base'),
      preset: 'tiny',
      steps: 20,
      seed: 3,
    });
  }, 120_000);
  afterAll(() => rm(dir, {recursive: true, force: true}));

  it('validates on the quantized weights: the run’s val accuracy is the int4 model’s accuracy', async () => {
    const out = join(dir, 'qat');
    const report = await finetune({
      model: join(dir, 'base'),
      data: join(dir, 'more.jsonl'),
      val: join(dir, 'val.jsonl'),
      out,
      method: 'full',
      qat: 'int4',
      steps: 10,
      evalEvery: 10,
      seed: 4,
    });
    expect(report.qat).toBe('int4');
    expect(report.qat_weights).toBeGreaterThan(4);
    expect((await readRunConfig(out)).qat).toBe('int4');
    // The saved weights are the float masters; quantizing them gives the model validation ran on.
    const q = await quantizeRun({
      model: out,
      out: join(dir, 'qat-int4'),
      dtype: 'int4',
      eval: join(dir, 'val.jsonl'),
    });
    expect(q.accuracy_after).toBeCloseTo(report.validation!.val_acc!, 6);
    expect(q.max_abs_error).toBeGreaterThan(0);
    // On this seed the float and int4 models disagree on a row, so the equality above is not vacuous.
    expect(q.accuracy_before).not.toBeCloseTo(q.accuracy_after!, 6);
  }, 120_000);

  it('needs full fine-tuning', async () => {
    await expect(
      finetune({model: join(dir, 'base'), data: join(dir, 'more.jsonl'), out: join(dir, 'x'), qat: 'int8'}),
    ).rejects.toThrow(ConfigError);
  });
});
