import {mkdtemp, readFile, rm, stat, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {runCli} from '../helpers/cli.js';

let dir: string;
let teacher: string;
/** oclif wraps error messages and prefixes each line with › */
const oneLine = (stderr: string) => stderr.replace(/\s*\n\s*›\s*/g, ' ');
const DATA = 'fixtures/imdb/reviews.jsonl';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dsk-cli-distill-'));
  teacher = join(dir, 'teacher');
  const trained = runCli(['train', '--data', DATA, '--out', teacher, '--preset', 'tiny', '--steps', '10']);
  if (trained.code !== 0) throw new Error(trained.stderr);
}, 120_000);
afterAll(() => rm(dir, {recursive: true, force: true}));

describe('deepseek-kit distill', () => {
  it('distills into a smaller student run with --json, cached teacher logits, and evaluate reads it', async () => {
    const out = join(dir, 'student');
    const args = ['distill', '--teacher', teacher, '--data', DATA, '--out', out, '--preset', 'tiny'];
    const small = ['--vocab-size', '600', '--max-len', '64', '--steps', '6', '--cache-teacher'];
    const r = runCli([...args, ...small, '--temperature', '3', '--alpha', '0.7', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({
      task: 'classify',
      steps: 6,
      temperature: 3,
      alpha: 0.7,
      teacher_cache: 'computed',
      tokenizer_source: 'own',
      train_examples: 1783,
      val_examples: 217,
      unlabeled_examples: 0,
    });
    expect(report.parameters).toBeLessThan(report.teacher.parameters);
    expect(report.teacher.validation.val_acc).toBeGreaterThan(0);
    expect(report.validation.val_acc).toBeGreaterThan(0);
    expect((await stat(join(out, 'teacher-logits.f32'))).size).toBe(1783 * 2 * 4);
    const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
    expect(config.distill).toEqual({teacher, temperature: 3, alpha: 0.7});

    // Resume to more steps reads the cache instead of rerunning the teacher; human output names both models.
    const resumed = runCli([
      ...args,
      ...small.map((a) => (a === '6' ? '9' : a)),
      '--temperature',
      '3',
      '--alpha',
      '0.7',
      '--resume',
    ]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/teacher logits: read from the run folder cache/);
    expect(resumed.stdout).toMatch(/distilled in .*9 steps, T 3, alpha 0.7, teacher cache reused/);
    expect(resumed.stdout).toMatch(/teacher \d+ parameters: val_loss/);
    expect(resumed.stdout).toMatch(/student \d+ parameters \(\d+\.\d% of the teacher\): val_loss/);

    const scored = runCli(['evaluate', '--model', out, '--data', 'fixtures/imdb/test.jsonl', '--json']);
    expect(scored.code, scored.stderr).toBe(0);
    expect(JSON.parse(scored.stdout).examples).toBe(1000);
  });

  it('exits 1 with the fix for a bad alpha, a missing teacher, and a resume with other settings', () => {
    const base = ['distill', '--teacher', teacher, '--data', DATA, '--steps', '2'];
    const alpha = runCli([...base, '--out', join(dir, 'a'), '--alpha', '1.5']);
    expect(alpha.code).toBe(1);
    expect(oneLine(alpha.stderr)).toMatch(/--alpha must be a number in \[0, 1\], got "1.5"/);
    const missing = runCli([
      'distill',
      '--teacher',
      join(dir, 'none'),
      '--data',
      DATA,
      '--out',
      join(dir, 'b'),
    ]);
    expect(missing.code).toBe(1);
    expect(oneLine(missing.stderr)).toMatch(/no run folder at .*none/);
    const changed = runCli([
      ...base,
      '--out',
      join(dir, 'student'),
      '--preset',
      'tiny',
      '--vocab-size',
      '600',
      '--max-len',
      '64',
      '--temperature',
      '3',
      '--alpha',
      '0.2',
      '--resume',
    ]);
    expect(changed.code).toBe(1);
    expect(oneLine(changed.stderr)).toMatch(/cannot resume, distill.alpha differs/);
  });

  it('distills a language model from a .txt file, on the teacher’s tokenizer', async () => {
    const text = join(dir, 'moby.txt');
    await writeFile(text, (await readFile('fixtures/text/moby-dick.txt', 'utf8')).slice(0, 30_000));
    const config = join(dir, 'byte.yaml');
    await writeFile(config, 'tokenizerKind: byte\n');
    const lm = join(dir, 'lm');
    const trained = runCli([
      'train',
      '--task',
      'lm',
      '--data',
      text,
      '--out',
      lm,
      '--preset',
      'tiny',
      '--config',
      config,
      '--steps',
      '4',
    ]);
    expect(trained.code, trained.stderr).toBe(0);
    const args = ['distill', '--teacher', lm, '--data', text, '--preset', 'tiny', '--steps', '3'];
    const r = runCli([...args, '--out', join(dir, 'lm-student'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({task: 'lm', steps: 3, tokenizer_source: 'teacher', teacher_cache: 'off'});
    expect(report.teacher.validation.val_ppl).toBeGreaterThan(1);
    const cached = runCli([...args, '--out', join(dir, 'lm-cached'), '--cache-teacher']);
    expect(cached.code).toBe(1);
    expect(oneLine(cached.stderr)).toMatch(/--cache-teacher is for classifier teachers/);
  });
});
