import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {runCli} from '../helpers/cli.js';

const unwrap = (text: string) => text.replace(/\s*\n\s*›\s*/g, ' ');

describe('deepseek-kit train --task lm, evaluate, generate', () => {
  let root: string;
  let run: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'dsk-lm-cli-'));
    run = join(root, 'moby');
    const r = runCli([
      'train',
      '--task',
      'lm',
      '--data',
      'fixtures/text/moby-dick.txt',
      '--out',
      run,
      '--preset',
      'tiny',
      '--steps',
      '40',
      '--lr',
      '3e-3',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({task: 'lm', steps: 40});
    expect(report.validation.val_ppl).toBeGreaterThan(1);
  }, 180_000);

  afterAll(async () => {
    await rm(root, {recursive: true, force: true});
  });

  it('evaluate --json reports loss, perplexity and bits per byte on plain text', () => {
    const r = runCli(['evaluate', '--model', run, '--data', 'fixtures/text/moby-dick.txt', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const e = JSON.parse(r.stdout);
    expect(e.task).toBe('lm');
    expect(e.perplexity).toBeCloseTo(Math.exp(e.loss), 6);
    expect(e.bits_per_byte).toBeCloseTo((e.loss * (e.tokens / e.bytes)) / Math.LN2, 2);
    expect(e.bits_per_byte).toBeGreaterThan(0.5);
    expect(e.bits_per_byte).toBeLessThan(8);
  });

  it('generate streams text; the same seed gives the same text, with or without the cache', () => {
    const args = [
      'generate',
      '--model',
      run,
      '--prompt',
      'Call me Ishmael.',
      '--max-tokens',
      '30',
      '--seed',
      '3',
    ];
    const a = runCli(args);
    const b = runCli(args);
    const c = runCli([...args, '--no-cache']);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout.trim().length).toBeGreaterThan(10);
    expect(b.stdout).toBe(a.stdout);
    expect(c.stdout).toBe(a.stdout);
    expect(a.stderr).toMatch(/30 tokens in .*tokens\/s/);
    const json = JSON.parse(runCli([...args, '--json']).stdout);
    expect(json.text).toBe(a.stdout.replace(/\n$/, ''));
    expect(json).toMatchObject({tokens: 30, stopped_by: 'max_tokens'});
  });

  it('stop strings end the text before them', () => {
    const r = runCli([
      'generate',
      '--model',
      run,
      '--prompt',
      'The',
      '--max-tokens',
      '60',
      '--seed',
      '1',
      '--stop',
      'e',
      '--json',
    ]);
    const json = JSON.parse(r.stdout);
    expect(json.stopped_by).toBe('stop');
    expect(json.text).not.toContain('e');
  });

  it('refuses text shorter than one training window, saying how long it is', async () => {
    const tiny = join(root, 'tiny.txt');
    await writeFile(tiny, 'Call me Ishmael.');
    const r = runCli([
      'train',
      '--task',
      'lm',
      '--data',
      tiny,
      '--out',
      join(root, 'short'),
      '--preset',
      'tiny',
    ]);
    expect(r.code).toBe(1);
    expect(unwrap(r.stderr)).toMatch(/tokens, fewer than one window of 65/);
  });

  it('generate with a sampling setting out of range is a usage error naming it', () => {
    const r = runCli(['generate', '--model', run, '--prompt', 'x', '--top-p', '0']);
    expect(r.code).toBe(1);
    expect(unwrap(r.stderr)).toMatch(/--top-p must be a number in \(0, 1\], got "0"/);
  });
});
