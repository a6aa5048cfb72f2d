import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {ModelError} from '../../src/errors.js';
import type {ClassifierEvaluation} from '../../src/models/model-kind.js';
import {distill} from '../../src/workflows/distill.js';
import {evaluateRun} from '../../src/workflows/evaluate.js';
import {exportRun} from '../../src/workflows/export.js';
import {finetune} from '../../src/workflows/finetune.js';
import {mergeAdapter} from '../../src/workflows/merge.js';
import {predictRun} from '../../src/workflows/predict.js';
import {pruneRun} from '../../src/workflows/prune.js';
import {quantizeRun} from '../../src/workflows/quantize.js';
import {tinyData, tinyRun} from './tiny-run.js';

// An export folder as --model: the commands that read it as its run give the run's numbers; the
// ones that need the run itself refuse it at once, saying what to pass instead.
let root: string;
let run: string;
let exported: string;
let data: string;

beforeAll(async () => {
  await initBackend();
  root = await mkdtemp(join(tmpdir(), 'dsk-export-input-'));
  run = await tinyRun(root, 'run');
  exported = join(root, 'export');
  await exportRun({model: run, out: exported, dtype: 'none'});
  data = await tinyData(root);
});
afterAll(() => rm(root, {recursive: true, force: true}));

const REFUSED =
  /export is an export folder for the browser, and \w+ reads a run folder.*pass the run folder it was exported from/;

describe('an export folder as an input', () => {
  it('evaluate and predict read it as the run: the same accuracy and probabilities', async () => {
    const score = async (model: string) =>
      ((await evaluateRun({model, data})) as ClassifierEvaluation).accuracy;
    expect(await score(exported)).toBe(await score(run));
    const probabilities = async (model: string) => {
      const output = join(root, `${model === run ? 'run' : 'export'}.jsonl`);
      await predictRun({model, input: data, output});
      return (await readFile(output, 'utf8'))
        .trim()
        .split('\n')
        .map((line) => Object.values(JSON.parse(line).probabilities as Record<string, number>));
    };
    const [a, b] = [await probabilities(run), await probabilities(exported)];
    for (const [i, row] of a.entries()) {
      for (const [j, p] of row.entries()) expect(Math.abs(p - b[i]![j]!)).toBeLessThan(1e-6);
    }
  });

  it('quantize, prune, finetune, distill and merge refuse it at once, naming the run folder to pass', async () => {
    const out = join(root, 'out');
    const jobs: [string, () => Promise<unknown>][] = [
      ['quantize', () => quantizeRun({model: exported, out, dtype: 'int8'})],
      ['prune', () => pruneRun({model: exported, out, method: 'magnitude'})],
      ['finetune', () => finetune({model: exported, data, out, steps: 1})],
      ['distill', () => distill({teacher: exported, data, out, steps: 1})],
      ['merge', () => mergeAdapter({model: exported, adapter: run, out})],
    ];
    for (const [name, job] of jobs) {
      const err = await job().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, name).toBeInstanceOf(ModelError);
      expect((err as Error).message, name).toMatch(REFUSED);
    }
  });

  it('reads the export tokenizer named in model.json under the containment rule', async () => {
    const file = join(exported, 'model.json');
    const json = JSON.parse(await readFile(file, 'utf8'));
    json.userDefinedMetadata.deepseek_kit.model.tokenizer.file = '../../../../etc/passwd';
    await writeFile(file, JSON.stringify(json));
    await expect(evaluateRun({model: exported, data})).rejects.toThrow(
      /tokenizer path .* climbs out with "\.\."/,
    );
  });
});
