import {spawn} from 'node:child_process';
import {existsSync} from 'node:fs';
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {ROOT, runCli} from '../helpers/cli.js';

/**
 * The crash a user actually has: the process is killed (SIGKILL — no handler runs, nothing is
 * flushed) in the middle of train, finetune or distill. The run folder must keep its last complete
 * checkpoint, and `--resume` must end where an uninterrupted run with the same flags ends.
 */
const TRAIN = 'fixtures/imdb/reviews.jsonl';
const TEST = 'fixtures/imdb/test.jsonl';
const STEPS = 120;
const EVERY = 20;

interface Killed {
  signal: NodeJS.Signals | null;
  /** The checkpoint `latest` pointed to when the kill was sent. */
  atStep: number;
}

/** Starts the CLI, SIGKILLs it as soon as a checkpoint at or past `afterStep` is complete. */
function runAndKill(args: string[], out: string, afterStep: number): Promise<Killed> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`${ROOT}/bin/run.js`, ...args], {cwd: ROOT, stdio: 'ignore'});
    const latest = join(out, 'checkpoints', 'latest');
    let atStep = -1;
    const timer = setInterval(async () => {
      if (!existsSync(latest)) return;
      const step = Number(/step-(\d+)/.exec(await readFile(latest, 'utf8').catch(() => ''))?.[1] ?? -1);
      if (step >= afterStep && atStep < 0) {
        atStep = step;
        child.kill('SIGKILL');
      }
    }, 5);
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      clearInterval(timer);
      resolve({signal, atStep});
    });
  });
}

function jsonRun(args: string[]): Record<string, unknown> & {validation: Record<string, number>} {
  const r = runCli([...args, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe('SIGKILL mid-run, then --resume: the same final metrics as an uninterrupted run', () => {
  let root: string;
  let config: string;
  let base: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'dsk-kill-'));
    config = join(root, 'tiny.json');
    await writeFile(
      config,
      JSON.stringify({maxLen: 48, dModel: 16, numHeads: 2, ffnHidden: 32, numLayers: 1}),
    );
    base = join(root, 'base');
    jsonRun(['train', '--data', TRAIN, '--out', base, '--config', config, '--steps', '20']);
  }, 120_000);
  afterAll(() => rm(root, {recursive: true, force: true}));

  const cases: Record<string, (out: string) => string[]> = {
    train: (out) => ['train', '--data', TRAIN, '--val', TEST, '--out', out, '--config', config],
    finetune: (out) => ['finetune', '--model', base, '--data', TEST, '--out', out, '--lr', '3e-3'],
    distill: (out) => ['distill', '--teacher', base, '--data', TRAIN, '--out', out, '--config', config],
  };

  for (const [command, argsFor] of Object.entries(cases)) {
    it(command, async () => {
      const schedule = ['--steps', String(STEPS), '--checkpoint-every', String(EVERY), '--seed', '7'];
      const whole = jsonRun([...argsFor(join(root, `${command}-whole`)), ...schedule]);

      const out = join(root, `${command}-killed`);
      const killed = await runAndKill([...argsFor(out), ...schedule], out, 2 * EVERY);
      // It really died mid-run (had it finished first, the test would prove nothing).
      expect(killed.signal).toBe('SIGKILL');
      expect(killed.atStep).toBeGreaterThanOrEqual(2 * EVERY);
      expect(killed.atStep).toBeLessThan(STEPS);
      expect(existsSync(join(out, 'model', 'model.json'))).toBe(false);

      const resumed = jsonRun([...argsFor(out), ...schedule, '--resume']);
      expect(resumed.resumed_from).toBeGreaterThanOrEqual(killed.atStep);
      expect(resumed.resumed_from).toBeLessThan(STEPS);
      expect(resumed.steps).toBe(STEPS);
      for (const [metric, value] of Object.entries(whole.validation)) {
        expect(resumed.validation[metric], metric).toBeCloseTo(value, 4);
      }
      console.log(
        `${command}: killed after checkpoint ${killed.atStep} of ${STEPS}, resumed from ${resumed.resumed_from}: ` +
          Object.entries(resumed.validation)
            .map(([k, v]) => `${k} ${v.toFixed(5)} (uninterrupted ${whole.validation[k]!.toFixed(5)})`)
            .join(', '),
      );
    }, 180_000);
  }
});
