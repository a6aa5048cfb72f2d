import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {prunableWeights} from '../../src/compress/prune-magnitude.js';
import {loadRun} from '../../src/run/load-run.js';
import {distill} from '../../src/workflows/distill.js';
import {evaluateRun} from '../../src/workflows/evaluate.js';
import {generate} from '../../src/workflows/generate.js';
import {pruneRun} from '../../src/workflows/prune.js';
import {trainRun} from '../../src/workflows/train.js';
import {ROOT} from '../helpers/cli.js';

/** Language-model runs: the same three verbs, perplexity as the metric, fine-tuning on text. */
describe('prune on a causal language model (Moby-Dick)', () => {
  let root: string;
  let run: string;
  let train: string;
  let val: string;

  beforeAll(async () => {
    await initBackend();
    root = await mkdtemp(join(tmpdir(), 'dsk-prune-lm-'));
    const book = await readFile(join(ROOT, 'fixtures/text/moby-dick.txt'), 'utf8');
    [train, val] = [join(root, 'train.txt'), join(root, 'val.txt')];
    await writeFile(train, book.slice(0, 80_000));
    await writeFile(val, book.slice(-20_000));
    run = join(root, 'lm');
    await trainRun('lm', {data: train, val, out: run, preset: 'tiny', steps: 60});
  }, 90_000);
  afterAll(() => rm(root, {recursive: true, force: true}));

  it('magnitude 50% with a gradual fine-tune on text: exact sparsity, perplexity before/after reported', async () => {
    const out = join(root, 'sparse');
    const report = await pruneRun({
      model: run,
      out,
      method: 'magnitude',
      sparsity: 0.5,
      data: train,
      steps: 30,
      eval: val,
    });
    expect(report.finetune_steps).toBe(30);
    expect(report.perplexity_before).toBeGreaterThan(1);
    expect(report.perplexity_after).toBeGreaterThan(1);
    const saved = await loadRun(out);
    const values = prunableWeights(saved.model).flatMap((w) => [...w.read().dataSync()]);
    expect(values.filter((x) => x === 0).length).toBe(Math.round(0.5 * values.length));
    saved.model.dispose();
    console.log(
      `lm magnitude 50% + 30 steps: perplexity ${report.perplexity_before!.toFixed(1)} → ${report.perplexity_after!.toFixed(1)}`,
    );
  }, 90_000);

  it('structured 30%: config.json has the new ffnHidden, numHeads and headDim, and evaluate reads the smaller run', async () => {
    const out = join(root, 'slim');
    const report = await pruneRun({model: run, out, method: 'structured', sparsity: 0.3, eval: val});
    // preset tiny: dModel 64, 2 heads of 32, ffnHidden 176 → round(0.7·176) = 123 neurons, 1 head.
    expect(report.structures!.map((s) => [s.structure, s.before, s.after])).toEqual([
      ['ffn', 2 * 176, 2 * 123],
      ['heads', 2 * 2, 2 * 1],
    ]);
    const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
    expect(config.model).toMatchObject({ffnHidden: 123, numHeads: 1, numKvHeads: 0, headDim: 32});
    expect(report.parameters_after).toBeLessThan(report.parameters_before);
    const evaluated = (await evaluateRun({model: out, data: val})) as unknown as {perplexity: number};
    expect(evaluated.perplexity).toBeCloseTo(report.perplexity_after!, 3);
    // Cached decoding (fused q/k/v over 1 head of 32 in a width of 64) picks what the full forward picks.
    const cached = await generate(out, 'Call me', {maxTokens: 12, temperature: 0});
    const full = await generate(out, 'Call me', {maxTokens: 12, temperature: 0, useCache: false});
    expect(cached.ids).toEqual(full.ids);
    // A student distilled from the pruned run without a config of its own takes the teacher's shape:
    // 1 head of 32 in a width of 64 (before headDim was a config key it got 1 head of 64).
    const student = await distill({teacher: out, data: train, out: join(root, 'student'), steps: 2});
    expect(student.parameter_ratio).toBe(1);
    const studentRun = await loadRun(student.out);
    expect(studentRun.config.model).toMatchObject({numHeads: 1, headDim: 32, ffnHidden: 123});
    expect(studentRun.model.countParams()).toBe(report.parameters_after);
    studentRun.model.dispose();
    console.log(
      `lm structured 30%: parameters ${report.parameters_before} → ${report.parameters_after}, ` +
        `perplexity ${report.perplexity_before!.toFixed(1)} → ${report.perplexity_after!.toFixed(1)}`,
    );
  }, 90_000);
});
