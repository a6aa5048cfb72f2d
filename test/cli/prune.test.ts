import {mkdtemp, readdir, readFile, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {runCli} from '../helpers/cli.js';

const TRAIN = 'fixtures/imdb/reviews.jsonl';
const TEST = 'fixtures/imdb/test.jsonl';
/** stderr with oclif's line wrapping undone. */
const unwrap = (text: string) => text.replace(/\s*\n\s*›\s*/g, ' ');

describe('deepseek-kit prune', () => {
  let root: string;
  let run: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'dsk-prune-cli-'));
    run = join(root, 'run');
    const trained = runCli(['train', '--data', TRAIN, '--out', run, '--preset', 'tiny', '--epochs', '1']);
    expect(trained.code, trained.stderr).toBe(0);
  }, 120_000);

  afterAll(() => rm(root, {recursive: true, force: true}));

  it('structured --json: a smaller run folder that evaluate, predict and quantize accept', async () => {
    const out = join(root, 'slim');
    const args = ['--model', run, '--out', out, '--method', 'structured', '--sparsity', '0.25'];
    const r = runCli(['prune', ...args, '--eval', TEST, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    // preset tiny: dModel 32, ffnHidden 88 → 66 neurons kept, 22 × 3 × 32 parameters removed; its
    // 2 heads stay 2 (round(0.75·2)), reported with nothing removed.
    expect(
      report.structures.map((x: {structure: string; before: number; after: number}) => x.structure),
    ).toEqual(['ffn', 'heads']);
    expect(report.structures[0]).toMatchObject({before: 88, after: 66, parameters_removed: 22 * 3 * 32});
    expect(report.structures[0].layers).toEqual([{layer: 'block0', hidden_before: 88, hidden_after: 66}]);
    expect(report.structures[1]).toMatchObject({before: 2, after: 2, parameters_removed: 0});
    expect(report.parameters_before - report.parameters_after).toBe(22 * 3 * 32);
    expect(report.size_bytes_before - report.size_bytes_after).toBe(4 * 22 * 3 * 32);
    expect(report.accuracy_after).toBeGreaterThan(0.4);
    expect((await readdir(out)).sort()).toEqual(['config.json', 'labels.json', 'model', 'tokenizer.json']);
    const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
    expect(config.model.ffnHidden).toBe(66);
    expect(config.pruned).toMatchObject({method: 'structured', sparsity: 0.25});

    const evaluated = runCli(['evaluate', '--model', out, '--data', TEST, '--json']);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    expect(JSON.parse(evaluated.stdout).accuracy).toBeCloseTo(report.accuracy_after, 6);
    const predicted = runCli(['predict', '--model', out], {input: '{"text":"a wonderful, moving film"}\n'});
    expect(predicted.code, predicted.stderr).toBe(0);
    expect(JSON.parse(predicted.stdout.trim()).label).toMatch(/^(pos|neg)$/);
    const quantized = runCli(['quantize', '--model', out, '--out', join(root, 'slim-int8'), '--json']);
    expect(quantized.code, quantized.stderr).toBe(0);
  }, 90_000);

  it('--structure heads: one of two heads goes, config.json says so, predict reads the run', async () => {
    const out = join(root, 'one-head');
    const args = [
      '--model',
      run,
      '--out',
      out,
      '--method',
      'structured',
      '--structure',
      'heads',
      '--sparsity',
      '0.5',
    ];
    const r = runCli(['prune', ...args, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    // A head of 16 of dModel 32: q, k, v columns 32×16 each and o rows 16×32.
    expect(report.structures).toEqual([
      {
        structure: 'heads',
        before: 2,
        after: 1,
        parameters_removed: 4 * 16 * 32,
        layers: [
          {
            layer: 'block0',
            heads_before: 2,
            heads_after: 1,
            kv_heads_before: 2,
            kv_heads_after: 1,
            head_dim: 16,
          },
        ],
      },
    ]);
    expect(report.parameters_before - report.parameters_after).toBe(4 * 16 * 32);
    const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
    expect(config.model).toMatchObject({dModel: 32, numHeads: 1, headDim: 16});
    const predicted = runCli(['predict', '--model', out], {input: '{"text":"a wonderful, moving film"}\n'});
    expect(predicted.code, predicted.stderr).toBe(0);
    const human = runCli(['prune', ...args, '--overwrite']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/heads\s+2 → 1 \(−2048 parameters\)\n\s+block0: heads 2 → 1, head size 16/);
  }, 90_000);

  it('magnitude with --data: human report with sparsity, fine-tuning steps and the dense-storage note', () => {
    const out = join(root, 'sparse');
    const r = runCli([
      'prune',
      '--model',
      run,
      '--out',
      out,
      '--sparsity',
      '0.6',
      '--scope',
      'layer',
      '--data',
      TRAIN,
      '--steps',
      '20',
      '--eval',
      TEST,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/sparsity\s+60\.0% of \d+ weights/);
    expect(r.stdout).toMatch(/20 fine-tuning steps/);
    expect(r.stdout).toMatch(/stored densely/);
    expect(r.stdout).toMatch(/accuracy\s+[\d.]+% → [\d.]+%/);
    expect(r.stdout).toContain(`wrote ${out}`);
  }, 90_000);

  it('input errors exit 1 with a message that says what to do', () => {
    const cases: [string[], RegExp][] = [
      [['--sparsity', '1.5'], /--sparsity must be a number in \[0, 1\), got "1.5"/],
      [['--method', 'experts'], /--method experts needs --data/],
      [['--method', 'experts', '--data', TEST], /no MoE layers.*ffn: moe/],
      [['--skip', '('], /not a valid regular expression/],
      [['--structure', 'heads'], /--structure applies to --method structured/],
      [['--method', 'structured', '--structure', 'units'], /no Dense hidden units.*--structure ffn or heads/],
    ];
    for (const [args, message] of cases) {
      const r = runCli(['prune', '--model', run, '--out', join(root, 'bad'), ...args]);
      expect(r.code, r.stderr).toBe(1);
      expect(unwrap(r.stderr)).toMatch(message);
    }
    // --out is the run read: refused as an input, with or without --overwrite (issue 17).
    const occupied = runCli(['prune', '--model', run, '--out', run]);
    expect(occupied.code).toBe(1);
    expect(unwrap(occupied.stderr)).toMatch(/refusing to overwrite the input .* with --out/);
  }, 90_000);
});
