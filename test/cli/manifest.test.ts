import {mkdtemp, readFile, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {commandFiles, MANIFEST_FILE, manifestStaleness, writeManifest} from '../../src/cli/manifest.js';
import {ROOT} from '../helpers/cli.js';
import {scratchPackage} from './scratch-package.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dsk-cli-manifest-'));
});
afterAll(() => rm(dir, {recursive: true, force: true}));

describe('oclif.manifest.json', () => {
  it('the build writes one that lists every command in src/commands, with its flags', async () => {
    const manifest = JSON.parse(await readFile(join(ROOT, MANIFEST_FILE), 'utf8'));
    const {ids} = await commandFiles(join(ROOT, 'src/commands'));
    expect(Object.keys(manifest.commands).sort()).toEqual(ids);
    expect(manifest.version).toBe(JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')).version);
    expect(Object.keys(manifest.commands.train.flags)).toEqual(
      expect.arrayContaining(['data', 'lr', 'json', 'backend']),
    );
    // --lr has no flag default (a text classifier's plan fills it); a decimal default still reaches the manifest.
    expect(manifest.commands.train.flags['weight-decay'].default).toBe(0.01);
    expect(await manifestStaleness(ROOT)).toBeUndefined();
    const pjson = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'));
    expect(pjson.files).toContain(MANIFEST_FILE);
    expect(pjson.scripts.build).toMatch(/write-manifest/);
    expect(pjson.scripts.prepare).toBe('npm run build');
  });

  it('a command added after the manifest was written is still found (the stale manifest is ignored)', async () => {
    const pkg = await scratchPackage(join(dir, 'pkg'));
    await pkg.addCommand('old', "this.log('old ran'); return {ran: 'old'};");
    await writeManifest(join(dir, 'pkg'));
    expect(await manifestStaleness(join(dir, 'pkg'))).toBeUndefined();
    const fresh = pkg.run(['old']);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(fresh.stderr).not.toMatch(/warning/);

    await pkg.addCommand('new', "this.log('new ran'); return {ran: 'new'};");
    expect(await manifestStaleness(join(dir, 'pkg'))).toBe(`${MANIFEST_FILE} lacks new from commands`);
    const r = pkg.run(['new']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('new ran\n');
    expect(r.stderr).toMatch(/warning: oclif.manifest.json lacks new from commands; .* run npm run build/);
    expect(pkg.run(['--help']).stdout).toMatch(/^ {2}new +Scratch command new\./m);
  });
});
