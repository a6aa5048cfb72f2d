import {spawnSync} from 'node:child_process';
import {mkdtemp, readFile, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {ROOT} from '../helpers/cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dsk-cli-start-up-'));
});
afterAll(() => rm(dir, {recursive: true, force: true}));

/** Runs the CLI and returns every ES module URL it resolved. */
async function modulesLoadedBy(args: string[], input = ''): Promise<string[]> {
  const trace = join(dir, `trace-${args.join('_').replace(/\W/g, '')}.txt`);
  const r = spawnSync(
    process.execPath,
    ['--import', join(ROOT, 'test/cli/trace-imports.mjs'), join(ROOT, 'bin/run.js'), ...args],
    {cwd: ROOT, input, encoding: 'utf8', env: {...process.env, TRACE_IMPORTS: trace}},
  );
  expect(r.status, r.stderr).toBe(0);
  return (await readFile(trace, 'utf8')).trim().split('\n');
}

const tfjs = (urls: string[]) => urls.filter((u) => u.includes('/@tensorflow/'));

describe('start-up', () => {
  it('help, version and the data commands load no tfjs module', async () => {
    const rows = (await readFile(join(ROOT, 'fixtures/imdb/test.jsonl'), 'utf8'))
      .split('\n')
      .slice(0, 40)
      .join('\n');
    const runs: [string[], string?][] = [
      [['--version']],
      [['--help']],
      [['version']],
      [['clean', '--help']],
      [['train', '--help']],
      [['stats'], rows],
      [['clean'], rows],
      [['split', '--out-dir', join(dir, 'splits')], rows],
      [['balance'], rows],
      [['augment', '--num-aug', '1', '--ops', 'rs'], rows],
    ];
    for (const [args, input] of runs) {
      const urls = await modulesLoadedBy(args, input);
      expect(
        urls.some((u) => u.endsWith('/dist/cli/main.js')),
        args.join(' '),
      ).toBe(true);
      expect(tfjs(urls), args.join(' ')).toEqual([]);
    }
  });

  it('a model command does load tfjs (the trace would see it)', async () => {
    expect(tfjs(await modulesLoadedBy(['info', '--backend', 'cpu'])).length).toBeGreaterThan(0);
  });
});
