import {spawnSync} from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {OutputError} from '../../src/fs/output-error.js';
import {OutputFile} from '../../src/fs/output-file.js';

const dir = mkdtempSync(join(tmpdir(), 'dsk-output-file-'));

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected, write`), {code, syscall: 'write'});
}

describe('OutputFile', () => {
  it('removes the temporary file a writer killed outright (kill -9) left, not a running one’s', async () => {
    const parent = mkdtempSync(join(dir, 'killed-'));
    const dead = `.out.jsonl.${spawnSync('true').pid}-0000abcd.tmp`;
    const live = `.out.jsonl.${process.ppid}-0000beef.tmp`;
    for (const name of [dead, live]) writeFileSync(join(parent, name), 'half a row');
    const file = await OutputFile.open(join(parent, 'out.jsonl'));
    file.stream.write('row\n');
    await file.commit();
    expect(readdirSync(parent).sort()).toEqual([live, 'out.jsonl']);
  });

  it('writes under a hidden temporary name and renames on commit, keeping the old mode', async () => {
    const path = join(dir, 'out.jsonl');
    writeFileSync(path, 'old\n');
    chmodSync(path, 0o640);
    const file = await OutputFile.open(path);
    file.stream.write('new\n');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([
      expect.stringMatching(/^\.out\.jsonl\.\d+-[0-9a-f]+\.tmp$/),
    ]);
    expect(readFileSync(path, 'utf8')).toBe('old\n');
    await file.commit();
    expect(readFileSync(path, 'utf8')).toBe('new\n');
    expect(statSync(path).mode & 0o777).toBe(0o640);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('through a symbolic link: the target file is replaced and the link stays', async () => {
    const target = join(dir, 'target.jsonl');
    writeFileSync(target, 'old\n');
    symlinkSync(target, join(dir, 'via-link.jsonl'));
    const file = await OutputFile.open(join(dir, 'via-link.jsonl'));
    file.stream.write('new\n');
    await file.commit();
    expect(lstatSync(join(dir, 'via-link.jsonl')).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('new\n');
  });

  it('a write error (full disk) is an OutputError naming the file; no temporary file stays', async () => {
    for (const code of ['ENOSPC', 'EROFS', 'EACCES', 'EFBIG']) {
      const path = join(dir, `full-${code}.jsonl`);
      const file = await OutputFile.open(path);
      file.stream.write('row\n');
      file.stream.destroy(errno(code));
      const error = await file.commit().catch((e) => e);
      expect(error).toBeInstanceOf(OutputError);
      expect(error.message).toMatch(new RegExp(`cannot write .*full-${code}\\.jsonl: .*\\(${code}\\)`));
      expect(existsSync(path)).toBe(false);
      expect(readdirSync(dir).filter((f) => f.includes(`full-${code}`))).toEqual([]);
    }
  });

  it('an error that is not the user’s to fix stays an internal error', async () => {
    const file = await OutputFile.open(join(dir, 'bug.jsonl'));
    file.stream.destroy(new TypeError('a bug'));
    await expect(file.commit()).rejects.toThrow(TypeError);
  });

  it('abort leaves neither the file nor its temporary name', async () => {
    const path = join(dir, 'aborted.jsonl');
    const file = await OutputFile.open(path);
    file.stream.write('row\n');
    await file.abort();
    expect(readdirSync(dir).filter((f) => f.includes('aborted'))).toEqual([]);
  });

  it('a character device is written in place, not replaced', async () => {
    const file = await OutputFile.open('/dev/null');
    expect(file.inPlace).toBe(true);
    file.stream.write('row\n');
    await file.commit();
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
  });
});
