import {readdir} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {ROOT, runCli} from '../helpers/cli.js';

describe('help and version', () => {
  it('-h prints what --help prints, for the root and for commands', () => {
    for (const args of [[], ['train'], ['clean']]) {
      const short = runCli([...args, '-h']);
      const long = runCli([...args, '--help']);
      expect(short.code, short.stderr).toBe(0);
      expect(short.stdout).toMatch(/USAGE/);
      expect(short.stdout).toBe(long.stdout);
    }
  });

  it('every command answers -h with its usage and exit 0', async () => {
    const ids = (await readdir(join(ROOT, 'src/commands'))).map((f) => f.replace(/\.ts$/, ''));
    expect(ids.length).toBeGreaterThan(15);
    for (const id of ids) {
      const r = runCli([id, '-h']);
      expect(r.code, `${id}: ${r.stderr}`).toBe(0);
      expect(r.stdout, id).toContain(`$ deepseek-kit ${id}`);
    }
  });

  it('--version, -v and version print the same line; version --json the fields', () => {
    const lines = [['--version'], ['-v'], ['version']].map((args) => {
      const r = runCli(args);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout;
    });
    expect(lines[0]).toMatch(/^deepseek-kit\/\d+\.\d+\.\d+ \S+ node-v\d+/);
    expect(new Set(lines).size).toBe(1);
    const json = runCli(['version', '--json']);
    expect(JSON.parse(json.stdout)).toEqual({
      name: 'deepseek-kit',
      version: lines[0]!.split(' ')[0]!.split('/')[1],
      node: process.version,
      platform: process.platform,
      arch: process.arch,
    });
  });
});
