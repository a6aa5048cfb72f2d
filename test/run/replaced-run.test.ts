import {spawnSync} from 'node:child_process';
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {recoverReplacedRun} from '../../src/run/replaced-run.js';
import {withRunLock} from '../../src/run/run-lock.js';

// What a train/finetune/distill --overwrite killed outright (kill -9) leaves, made on disk: the
// old run moved aside as `.NAME.<pid>-<random>.replaced`, and maybe a partial new NAME.

/** The pid of a process that has ended: nothing runs under it any more. */
const deadPid = (): number => spawnSync('true').pid!;

/** `root/run` holding an old run (marker "old"), moved aside under `pid` as a killed --overwrite does. */
function killedOverwrite(pid = deadPid()) {
  const root = mkdtempSync(join(tmpdir(), 'dsk-replaced-'));
  const dir = join(root, 'run');
  mkdirSync(dir);
  writeFileSync(join(dir, 'marker'), 'old');
  const aside = join(root, `.run.${pid}-0badc0de.replaced`);
  renameSync(dir, aside);
  return {root, dir, aside};
}

/** A new run folder as train leaves it before (`checkpoint` false) or after its first checkpoint. */
function newRun(dir: string, checkpoint: boolean): void {
  mkdirSync(join(dir, 'checkpoints'), {recursive: true});
  writeFileSync(join(dir, 'config.json'), '{"task":"classify"}');
  if (checkpoint) writeFileSync(join(dir, 'checkpoints', 'latest'), 'step-00000002');
}

const hidden = (root: string) => readdirSync(root).filter((f) => f.startsWith('.'));

describe('after an --overwrite killed outright', () => {
  it('a new run with no checkpoint gives way to the old one, told in one line', () => {
    const {root, dir} = killedOverwrite();
    newRun(dir, false);
    const notes: string[] = [];
    expect(recoverReplacedRun(dir, (m) => notes.push(m)).map((r) => r.action)).toEqual(['restored']);
    expect(readdirSync(dir)).toEqual(['marker']);
    expect(hidden(root)).toEqual([]);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(
      /run: put back the previous run, which an --overwrite killed before its first checkpoint/,
    );
  });

  it('killed before the new folder was made: the old one comes back', () => {
    const {root, dir} = killedOverwrite();
    expect(recoverReplacedRun(dir).map((r) => r.action)).toEqual(['restored']);
    expect(readFileSync(join(dir, 'marker'), 'utf8')).toBe('old');
    expect(hidden(root)).toEqual([]);
  });

  it('a new run with a checkpoint stays (--resume continues it); the old one is removed, told', () => {
    const {root, dir} = killedOverwrite();
    newRun(dir, true);
    const notes: string[] = [];
    expect(recoverReplacedRun(dir, (m) => notes.push(m)).map((r) => r.action)).toEqual(['removed']);
    expect(readdirSync(dir).sort()).toEqual(['checkpoints', 'config.json']);
    expect(hidden(root)).toEqual([]);
    expect(notes[0]).toMatch(/removed the previous run .*the new run has a checkpoint/);
  });

  it('a folder half-deleted when the kill came goes; a running process’s folders stay', () => {
    const {root, dir, aside} = killedOverwrite(process.ppid);
    newRun(dir, false);
    const trash = join(root, `.run.${deadPid()}-00c0ffee.discard`);
    mkdirSync(join(trash, 'model'), {recursive: true});
    expect(recoverReplacedRun(dir)).toEqual([]);
    expect(hidden(root)).toEqual([aside.slice(root.length + 1)]);
    expect(readdirSync(dir).sort()).toEqual(['checkpoints', 'config.json']);
  });

  it('the next train/finetune/distill settles it under the lock before its job: the folder holds the old run', async () => {
    const {root, dir} = killedOverwrite();
    newRun(dir, false);
    const notes: string[] = [];
    const seen = await withRunLock(
      dir,
      (m) => notes.push(m),
      async () => readdirSync(dir),
    );
    expect(seen).toEqual(['marker']);
    expect(notes).toEqual([expect.stringMatching(/put back the previous run/)]);
    expect(hidden(root)).toEqual([]);
  });
});
