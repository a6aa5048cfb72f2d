import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {runCli} from '../helpers/cli.js';
import {scratchPackage} from './scratch-package.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dsk-cli-errors-'));
});
afterAll(() => rm(dir, {recursive: true, force: true}));

/** The one JSON line a failed `--json` run prints on stdout. */
function jsonError(stdout: string): {code: string; message: string; hint?: string} {
  expect(stdout.trim().split('\n')).toHaveLength(1);
  const parsed = JSON.parse(stdout);
  expect(Object.keys(parsed)).toEqual(['error']);
  expect(Object.keys(parsed.error).sort()).toEqual(
    parsed.error.hint === undefined ? ['code', 'message'] : ['code', 'hint', 'message'],
  );
  return parsed.error;
}

/** stderr lines that are the kit's error line (TensorFlow's start-up notes excluded). */
const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('Error:'));

describe('errors', () => {
  it('a usage error under --json is one short JSON object on stdout, exit 1', () => {
    const r = runCli(['train', '--json']);
    expect(r.code).toBe(1);
    expect(r.stdout.length).toBeLessThan(400);
    expect(jsonError(r.stdout)).toEqual({
      code: 'usage',
      message: 'The following errors occurred: Missing required flag data; Missing required flag out',
      hint: 'see deepseek-kit train --help',
    });
    expect(errorLines(r.stderr)).toEqual([]);
    const unknown = runCli(['no-such-command', '--json']);
    expect(unknown.code).toBe(1);
    expect(jsonError(unknown.stdout)).toEqual({
      code: 'usage',
      message: 'command no-such-command not found',
      hint: 'see deepseek-kit --help',
    });
  });

  it('without --json the same error is one line on stderr and nothing on stdout', () => {
    const r = runCli(['train']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([
      'Error: The following errors occurred: Missing required flag data; Missing required flag out — see deepseek-kit train --help',
    ]);
  });

  it('input errors (data, model folder) have code input, the hint apart, exit 1', () => {
    const data = runCli(['stats', '--in', 'fixtures/imdb/nope.jsonl', '--json']);
    expect(data.code).toBe(1);
    expect(jsonError(data.stdout)).toEqual({
      code: 'input',
      message: 'fixtures/imdb/nope.jsonl: no such file',
      hint: 'check the --in path',
    });
    const model = runCli([
      'evaluate',
      '--model',
      join(dir, 'none'),
      '--data',
      'fixtures/imdb/test.jsonl',
      '--json',
    ]);
    expect(model.code).toBe(1);
    const report = jsonError(model.stdout);
    expect(report.code).toBe('input');
    expect(report.message).toContain(join(dir, 'none'));
    const human = runCli(['stats', '--in', 'fixtures/imdb/nope.jsonl']);
    expect(human.stderr.trim()).toBe('Error: fixtures/imdb/nope.jsonl: no such file — check the --in path');
  });

  it('an internal error is code internal, exit 2, with the stack on stderr', async () => {
    const pkg = await scratchPackage(join(dir, 'pkg'));
    await pkg.addCommand('boom', "throw new TypeError('boom');");
    const json = pkg.run(['boom', '--json']);
    expect(json.code).toBe(2);
    expect(jsonError(json.stdout)).toMatchObject({code: 'internal', message: 'boom'});
    expect(json.stderr).toMatch(/TypeError: boom\n\s+at /);
    const human = pkg.run(['boom']);
    expect(human.code).toBe(2);
    expect(human.stdout).toBe('');
    expect(human.stderr).toMatch(/^Error: boom — this is a bug in deepseek-kit/m);
  });
});
