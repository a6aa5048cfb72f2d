import {spawn} from 'node:child_process';
import {existsSync} from 'node:fs';
import {mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {loadRun} from '../../src/run/load-run.js';
import {ROOT} from '../helpers/cli.js';
import {tinyData, tinyRun} from './tiny-run.js';

// train --overwrite killed with SIGKILL (no exit hook runs) while the old run waits aside: the
// next command that reads the folder puts the old run back, and says so.
let root: string;
let data: string;
let config: string;

beforeAll(async () => {
  await initBackend();
  root = await mkdtemp(join(tmpdir(), 'dsk-killed-overwrite-'));
  data = await tinyData(root);
  config = join(root, 'tiny.json');
  await writeFile(config, JSON.stringify({maxLen: 8, dModel: 8, numHeads: 2, ffnHidden: 16, numLayers: 1}));
});
afterAll(() => rm(root, {recursive: true, force: true}));

/** Runs `train --overwrite` into `out` for ever, and SIGKILLs it once the old run is set aside and the new one begun. */
function trainKilledMidway(out: string): Promise<NodeJS.Signals | null> {
  const args = ['train', '--data', data, '--out', out, '--config', config, '--vocab-size', '60'];
  // Never ends, never checkpoints: the kill always comes before the first checkpoint.
  args.push('--patience', '0', '--steps', '1000000', '--checkpoint-every', '1000000', '--overwrite');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`${ROOT}/bin/run.js`, ...args], {cwd: ROOT, stdio: 'ignore'});
    const timer = setInterval(async () => {
      const aside = (await readdir(root)).some((f) => f.endsWith('.replaced'));
      if (aside && existsSync(join(out, 'config.json'))) child.kill('SIGKILL');
    }, 20);
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      clearInterval(timer);
      resolve(signal);
    });
  });
}

describe('train --overwrite killed with SIGKILL before its first checkpoint', () => {
  it('loadRun puts the old run back (one notice) and loads it; nothing is left beside it', async () => {
    const out = await tinyRun(root, 'run');
    await writeFile(join(out, 'marker'), 'old');
    expect(await trainKilledMidway(out)).toBe('SIGKILL');
    expect((await readdir(root)).filter((f) => f.endsWith('.replaced'))).toHaveLength(1);
    expect(await readdir(out)).not.toContain('marker');

    const notes: string[] = [];
    const run = await loadRun(out, {onInfo: (m) => notes.push(m)});
    run.model.dispose();
    expect(await readFile(join(out, 'marker'), 'utf8')).toBe('old');
    expect(notes).toEqual([expect.stringMatching(/put back the previous run/)]);
    // The killed writer's stale lock went with the recovery, which took it over.
    expect((await readdir(root)).filter((f) => f.startsWith('.'))).toEqual([]);
  }, 30_000);
});
