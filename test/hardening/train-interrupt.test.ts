import {spawn, spawnSync} from 'node:child_process';
import {existsSync} from 'node:fs';
import {mkdir, mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {lockPath} from '../../src/run/run-lock.js';
import {ROOT, runCli} from '../helpers/cli.js';

// Section 1 of issue 17, model side: signals, locks, the advice after a crash, --overwrite guards.
let root: string;
let data: string;
let config: string;

const trainArgs = (out: string, ...extra: string[]) => [
  'train',
  '--data',
  data,
  '--out',
  out,
  '--config',
  config,
  '--vocab-size',
  '120',
  // Text classifiers stop early by default: here a run must last until the signal.
  '--patience',
  '0',
  ...extra,
];

interface Exit {
  code: number | null;
  stderr: string;
  stdout: string;
}

/** Starts `train` for ever (checkpoint every 2 steps); once `ready(out)` holds, runs `then` on the child. */
function startLong(out: string, ready: () => boolean, then: () => void | Promise<void>): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [`${ROOT}/bin/run.js`, ...trainArgs(out, '--steps', '1000000', '--checkpoint-every', '2')],
      {cwd: ROOT},
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let fired = false;
    const timer = setInterval(async () => {
      if (fired || !ready()) return;
      fired = true;
      await then();
      child.kill('SIGINT');
    }, 20);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(timer);
      resolve({code, stdout, stderr});
    });
  });
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dsk-interrupt-'));
  const rows = (await readFile(join(ROOT, 'fixtures/imdb/reviews.jsonl'), 'utf8')).split('\n').slice(0, 120);
  await mkdir(join(root, 'data'));
  data = join(root, 'data', 'data.jsonl');
  await writeFile(data, `${rows.join('\n')}\n`);
  config = join(root, 'tiny.json');
  await writeFile(config, JSON.stringify({maxLen: 16, dModel: 8, numHeads: 2, ffnHidden: 16, numLayers: 1}));
});
afterAll(() => rm(root, {recursive: true, force: true}));

const checkpointed = (out: string) => () => existsSync(join(out, 'checkpoints', 'latest'));

describe('train stopped by a signal', () => {
  for (const [signal, status] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it(`${signal}: stops at a step, saves a checkpoint, exits ${status} saying so (not "trained …")`, async () => {
      const out = join(root, `stopped-${signal}`);
      const exit = await new Promise<Exit>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          [`${ROOT}/bin/run.js`, ...trainArgs(out, '--steps', '1000000', '--checkpoint-every', '2')],
          {cwd: ROOT},
        );
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        const timer = setInterval(() => {
          if (checkpointed(out)()) {
            clearInterval(timer);
            child.kill(signal);
          }
        }, 20);
        child.on('error', reject);
        child.on('exit', (code) => {
          clearInterval(timer);
          resolve({code, stdout, stderr});
        });
      });
      expect(exit.stderr).toMatch(/interrupted at step \d+; checkpoint saved; --resume continues/);
      expect(`${exit.stdout}${exit.stderr}`).not.toMatch(/trained classify/);
      expect(exit.code).toBe(status);
      const step = Number(/interrupted at step (\d+)/.exec(exit.stderr)![1]);
      expect(await readFile(join(out, 'checkpoints', 'latest'), 'utf8')).toMatch(
        new RegExp(`step-0*${step}\\b`),
      );
      expect(existsSync(lockPath(out))).toBe(false);
    });
  }
});

describe('run folder locks', () => {
  it('refuses a second writer naming the holder, and takes over a stale lock naming it', async () => {
    const out = join(root, 'locked');
    let second: ReturnType<typeof runCli> | undefined;
    const first = await startLong(out, checkpointed(out), () => {
      second = runCli(trainArgs(out, '--steps', '2', '--overwrite'));
    });
    expect(first.code).toBe(130);
    expect(second!.stderr).toMatch(/locked is being written by pid \d+ on .* \(since /);
    expect(second!.code).toBe(1);

    // A lock left by a process that is gone (kill -9): named and taken over.
    const dead = spawnSync(process.execPath, ['-e', 'process.pid'], {encoding: 'utf8'}).pid!;
    const host = (await import('node:os')).hostname();
    await writeFile(lockPath(out), JSON.stringify({pid: dead, host, started: '2026-01-01T00:00:00.000Z'}));
    const taken = runCli(trainArgs(out, '--steps', '2', '--overwrite'));
    expect(taken.stderr).toMatch(new RegExp(`took over a stale lock of pid ${dead} .*no longer running`));
    expect(taken.code).toBe(0);
    expect(existsSync(lockPath(out))).toBe(false);
  });
});

describe('killed before the first checkpoint', () => {
  it('--resume and a plain rerun both advise --overwrite, which then works', async () => {
    const out = join(root, 'early');
    expect(runCli(trainArgs(out, '--steps', '2')).code).toBe(0);
    // What kill -9 during data reading or step 1 leaves: config, tokenizer, metrics, no checkpoint.
    await rm(join(out, 'checkpoints'), {recursive: true});
    await rm(join(out, 'model'), {recursive: true});
    const resumed = runCli(trainArgs(out, '--steps', '2', '--resume'));
    expect(resumed.stderr).toMatch(/stopped before its first checkpoint — start it again with --overwrite/);
    expect(resumed.code).toBe(1);
    const plain = runCli(trainArgs(out, '--steps', '2'));
    expect(plain.stderr).toMatch(
      /stopped before its first checkpoint — .*pass --overwrite to start it again/,
    );
    expect(plain.code).toBe(1);
    expect(runCli(trainArgs(out, '--steps', '2', '--overwrite')).code).toBe(0);
  });
});

describe('--overwrite never deletes an input', () => {
  it('refuses quantize/export/finetune --model R --out R and train --data DIR/x --out DIR', async () => {
    const run = join(root, 'early');
    const before = (await readdir(run)).sort();
    for (const args of [
      ['quantize', '--model', run, '--out', run, '--overwrite'],
      ['export', '--model', run, '--out', run, '--overwrite'],
      ['finetune', '--model', run, '--data', data, '--out', run, '--overwrite'],
      ['quantize', '--model', run, '--out', join(run, 'inside'), '--overwrite'],
    ]) {
      const r = runCli(args);
      expect(r.stderr, args.join(' ')).toMatch(/refusing to (overwrite the input|write --out)/);
      expect(r.code, args.join(' ')).toBe(1);
    }
    expect((await readdir(run)).sort()).toEqual(before);
    const r = runCli(trainArgs(join(root, 'data'), '--steps', '2', '--overwrite'));
    expect(r.stderr).toMatch(/refusing to write --out .*data: it holds the input/);
    expect(r.code).toBe(1);
    expect(existsSync(data)).toBe(true);
  });
});
