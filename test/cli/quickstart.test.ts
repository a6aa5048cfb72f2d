import {mkdtemp, readdir, readFile, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import type {QuickstartReport} from '../../src/workflows/quickstart.js';
import {runCli} from '../helpers/cli.js';

/** The README's main job, end to end on the bundled reviews, as a new user runs it. */
describe('deepseek-kit quickstart', () => {
  let root: string;
  let report: QuickstartReport;
  let stderr: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'dsk-quickstart-'));
    const r = runCli(['quickstart', '--out', join(root, 'qs'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    report = JSON.parse(r.stdout) as QuickstartReport;
    stderr = r.stderr;
  }, 600_000);

  afterAll(async () => {
    await rm(root, {recursive: true, force: true});
  });

  it('runs every stage and prints one line for each on stderr', () => {
    const names = report.stages.map((s) => s.stage);
    expect(names).toEqual(['clean', 'split', 'augment', 'train', 'finetune', 'prune', 'quantize', 'export']);
    for (const name of names) expect(stderr).toMatch(new RegExp(`^${name}\\s`, 'm'));
    const clean = report.stages[0]!.figures;
    expect(clean.rows_in).toBe(2000);
    expect(Number(clean.exact_duplicate)).toBeGreaterThan(0);
  });

  it('trains a classifier that is right on ≥ 80% of the 1,000 test reviews, before and after export', () => {
    console.log(
      report.stages
        .map((s) => `${s.stage.padEnd(9)} ${s.seconds.toFixed(1).padStart(6)}s  ${s.summary}`)
        .join('\n'),
    );
    expect(report.accuracy_trained).toBeGreaterThanOrEqual(0.8);
    expect(report.accuracy_trained - report.accuracy_exported).toBeLessThanOrEqual(0.01);
    const ft = report.stages.find((s) => s.stage === 'finetune')!.figures;
    expect(Number(ft.trainable_params) / Number(ft.total_params)).toBeLessThan(0.15);
    expect(Number(ft.accuracy)).toBeGreaterThanOrEqual(0.8);
    const q = report.stages.find((s) => s.stage === 'quantize')!.figures;
    expect(Number(q.bytes_after) / Number(q.bytes_before)).toBeLessThanOrEqual(0.27);
  });

  it('leaves a browser model with its tokenizer and labels', async () => {
    const files = await readdir(report.export_dir);
    expect(files).toEqual(expect.arrayContaining(['model.json', 'tokenizer.json', 'labels.json']));
    const labels = JSON.parse(await readFile(join(report.export_dir, 'labels.json'), 'utf8'));
    expect(labels).toEqual(expect.arrayContaining(['neg', 'pos']));
  });

  it('refuses to write over a folder that holds files, unless --overwrite', () => {
    const r = runCli(['quickstart', '--out', join(root, 'qs')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/already holds files.*--overwrite/s);
  });
});
