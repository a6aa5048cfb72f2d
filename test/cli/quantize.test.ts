import {mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {runCli} from '../helpers/cli.js';

const TEST = 'fixtures/imdb/test.jsonl';
/** stderr with oclif's line wrapping undone. */
const unwrap = (text: string) => text.replace(/\s*\n\s*›\s*/g, ' ');

describe('deepseek-kit quantize and export', () => {
  let root: string;
  let run: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'dsk-quantize-cli-'));
    run = join(root, 'run');
    const trained = runCli([
      'train',
      '--data',
      'fixtures/imdb/reviews.jsonl',
      '--out',
      run,
      '--preset',
      'tiny',
      '--epochs',
      '1',
      '--json',
    ]);
    expect(trained.code, trained.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await rm(root, {recursive: true, force: true});
  });

  it('quantize int8 --eval: a quarter of the bytes, the accuracy change, a run folder with tokenizer and labels', async () => {
    const out = join(root, 'int8');
    const r = runCli(['quantize', '--model', run, '--out', out, '--dtype', 'int8', '--eval', TEST, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.size_bytes_after / report.size_bytes_before).toBeLessThanOrEqual(0.27);
    expect(report.max_abs_error).toBeGreaterThan(0);
    expect(Math.abs(report.accuracy_after - report.accuracy_before)).toBeLessThanOrEqual(0.01);
    expect(report.rows.find((row: {name: string}) => /norm/.test(row.name))).toMatchObject({
      kept: 'skip pattern',
    });
    expect((await readdir(out)).sort()).toEqual(['config.json', 'labels.json', 'model', 'tokenizer.json']);

    const int4 = [
      'quantize',
      '--model',
      run,
      '--out',
      out,
      '--dtype',
      'int4',
      '--group-size',
      '32',
      '--skip',
      'none',
    ];
    const human = runCli(int4);
    expect(human.code).toBe(1);
    expect(unwrap(human.stderr)).toMatch(/already holds files.*--overwrite/);
    const again = runCli([...int4, '--overwrite']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^int4 g32: weights [\d.]+ KB → [\d.]+ KB \(\d+\.\d%\)$/m);
    // Nothing skipped by pattern: only vectors (norm scales, biases) stay float32.
    expect(again.stdout).toMatch(/9 weights encoded, 3 kept\)/);
  });

  it('export int8 writes a browser model with tokenizer and labels; float16 for stock tfjs', async () => {
    const out = join(root, 'web');
    const r = runCli(['export', '--model', run, '--out', out, '--quantize', 'int8', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.needs_runtime).toBe(true);
    expect(report.files.map((f: {name: string}) => f.name)).toEqual([
      'model.json',
      'group1-shard1of1.bin',
      'tokenizer.json',
      'labels.json',
      'tokenizer_config.json',
    ]);
    const json = JSON.parse(await readFile(join(out, 'model.json'), 'utf8'));
    expect(json.format).toBe('layers-model');
    expect(JSON.stringify(json)).not.toMatch(/trainingConfig|optimizer/);
    const f16 = runCli([
      'export',
      '--model',
      run,
      '--out',
      join(root, 'web16'),
      '--quantize',
      'float16',
      '--eval',
      TEST,
      '--json',
    ]);
    expect(f16.code, f16.stderr).toBe(0);
    const r16 = JSON.parse(f16.stdout);
    expect(r16.needs_runtime).toBe(false);
    expect(Math.abs(r16.accuracy_after - r16.accuracy_before)).toBeLessThanOrEqual(0.001);
  });

  it('user errors exit 1 with a message: bad --skip, no run, a malformed model folder', async () => {
    const badSkip = runCli(['quantize', '--model', run, '--out', join(root, 'x'), '--skip', '(']);
    expect(badSkip.code).toBe(1);
    expect(unwrap(badSkip.stderr)).toMatch(/--skip '\(' is not a valid regular expression/);
    const none = runCli(['export', '--model', join(root, 'missing'), '--out', join(root, 'y')]);
    expect(none.code).toBe(1);
    expect(unwrap(none.stderr)).toMatch(/no run folder/);
    const broken = join(root, 'broken');
    runCli(['quantize', '--model', run, '--out', broken, '--dtype', 'float16']);
    await writeFile(join(broken, 'model', 'model.json'), '{"modelTopology":');
    const bad = runCli(['export', '--model', broken, '--out', join(root, 'z')]);
    expect(bad.code).toBe(1);
    expect(unwrap(bad.stderr)).toMatch(/model\.json is not valid JSON/);
  });
});
