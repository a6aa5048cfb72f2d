import {mkdir, mkdtemp, readFile, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {Readable} from 'node:stream';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {resolveDataFile} from '../../src/cli/data-file-flag.js';
import {stdinToFile, withStdinNamed} from '../../src/cli/stdin-file.js';
import {runCli} from '../helpers/cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dsk-cli-stdin-'));
});
afterAll(() => rm(dir, {recursive: true, force: true}));

const stream = (...chunks: string[]) => Readable.from(chunks.map((c) => Buffer.from(c)));

describe('data files from stdin (-)', () => {
  it('stdin is spooled to a file named for its format, read once, and named stdin in messages', async () => {
    const rows = stream('\n  {"text":"a","label":"x"}\n', '{"text":"b","label":"y"}\n');
    const jsonl = await stdinToFile({flag: '--data', stdin: rows});
    expect(jsonl).toMatch(/stdin\.jsonl$/);
    expect(await readFile(jsonl, 'utf8')).toBe('\n  {"text":"a","label":"x"}\n{"text":"b","label":"y"}\n');
    expect(withStdinNamed(`${jsonl} line 2: invalid JSON`)).toBe('stdin line 2: invalid JSON');
    await expect(stdinToFile({flag: '--val', stdin: rows})).rejects.toThrow(
      /^--val -: stdin is already read by --data — give --val a file$/,
    );
    expect(await stdinToFile({flag: '--data', stdin: stream('   ', 'Call me Ishmael.\n')})).toMatch(
      /stdin\.txt$/,
    );
    await expect(stdinToFile({flag: '--eval', stdin: stream(' \n')})).rejects.toThrow(
      /^--eval -: stdin is empty/,
    );
    const tty = Object.assign(stream('x'), {isTTY: true});
    await expect(stdinToFile({flag: '--data', stdin: tty})).rejects.toThrow(/--data -: stdin is a terminal/);
  });

  it('a missing file or a folder names the flag that gave it', async () => {
    await expect(resolveDataFile(join(dir, 'nope.jsonl'), '--val')).rejects.toThrow(
      `--val ${join(dir, 'nope.jsonl')}: no such file — check the --val path, or pass - to read stdin`,
    );
    await mkdir(join(dir, 'folder'));
    await expect(resolveDataFile(join(dir, 'folder'), '--eval')).rejects.toThrow(
      /--eval .*folder is a folder/,
    );
    expect(await resolveDataFile('fixtures/imdb/test.jsonl', '--data')).toBe('fixtures/imdb/test.jsonl');
  });

  it('train and evaluate read --data - from a pipe; errors name the flag and stdin', async () => {
    const reviews = (await readFile('fixtures/imdb/reviews.jsonl', 'utf8'))
      .split('\n')
      .slice(0, 200)
      .join('\n');
    const test = (await readFile('fixtures/imdb/test.jsonl', 'utf8')).split('\n').slice(0, 50).join('\n');
    const run = join(dir, 'run');
    const trained = runCli(
      ['train', '--data', '-', '--out', run, '--preset', 'tiny', '--steps', '2', '--json'],
      {
        input: reviews,
      },
    );
    expect(trained.code, trained.stderr).toBe(0);
    const report = JSON.parse(trained.stdout);
    expect(report.train_examples + report.val_examples).toBe(200);

    const scored = runCli(['evaluate', '--model', run, '--data', '-', '--json'], {input: test});
    expect(scored.code, scored.stderr).toBe(0);
    expect(JSON.parse(scored.stdout).examples).toBe(50);

    const broken = runCli(['evaluate', '--model', run, '--data', '-'], {
      input: '{"text": "fine", "label": "pos"}\n{bad\n',
    });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/^Error: stdin line 2: invalid JSON/m);

    const twice = runCli(['train', '--data', '-', '--val', '-', '--out', join(dir, 'x')], {input: reviews});
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/^Error: --val -: stdin is already read by --data — give --val a file$/m);

    const missing = runCli([
      'quantize',
      '--model',
      run,
      '--out',
      join(dir, 'q'),
      '--eval',
      'fixtures/nope.jsonl',
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      /^Error: --eval fixtures\/nope\.jsonl: no such file — check the --eval path/m,
    );
  }, 120_000);

  it('data commands take --in - as stdin', () => {
    const r = runCli(['stats', '--in', '-', '--json'], {input: '{"text":"a b c","label":"x"}\n'});
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).rows).toBe(1);
  });
});
