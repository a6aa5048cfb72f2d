import {execFileSync} from 'node:child_process';
import {existsSync, mkdtempSync, symlinkSync, writeFileSync} from 'node:fs';
import {createServer} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {OutputError} from '../../src/fs/output-error.js';
import {outputTarget} from '../../src/fs/output-target.js';

const dir = mkdtempSync(join(tmpdir(), 'dsk-target-'));

describe('outputTarget', () => {
  it('a new or regular file is written by temp + rename; a symlink is followed', async () => {
    expect(await outputTarget(join(dir, 'new.jsonl'))).toMatchObject({kind: 'file'});
    writeFileSync(join(dir, 'real.jsonl'), 'x');
    symlinkSync(join(dir, 'real.jsonl'), join(dir, 'link.jsonl'));
    expect(await outputTarget(join(dir, 'link.jsonl'))).toEqual({
      kind: 'file',
      path: join(dir, 'link.jsonl'),
      file: join(dir, 'real.jsonl'),
    });
  });

  it('a character device or a FIFO is streamed to in place; - is stdout', async () => {
    expect(await outputTarget('/dev/null')).toMatchObject({kind: 'stream', what: 'character device'});
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    expect(await outputTarget(fifo)).toMatchObject({kind: 'stream', what: 'FIFO'});
    expect(await outputTarget('-')).toEqual({kind: 'stdout', path: '-'});
  });

  it('refuses a folder, a socket or a block device; names a missing folder or a file where a folder should be', async () => {
    await expect(outputTarget(dir)).rejects.toThrow(/refusing to write .*: it is a folder/);
    const socket = join(dir, 'sock');
    const server = createServer().listen(socket);
    await new Promise((ok) => server.once('listening', ok));
    await expect(outputTarget(socket)).rejects.toThrow(/refusing to write .*sock: it is a socket/);
    server.close();
    if (existsSync('/dev/loop0')) {
      await expect(outputTarget('/dev/loop0')).rejects.toThrow(/it is a block device/);
    }
    await expect(outputTarget(join(dir, 'nope', 'x.jsonl'))).rejects.toThrow(/folder .*nope does not exist/);
    writeFileSync(join(dir, 'plain'), '');
    const error = await outputTarget(join(dir, 'plain', 'x.jsonl')).catch((e) => e);
    expect(error).toBeInstanceOf(OutputError);
    expect(error.message).toMatch(/plain\/x\.jsonl.*(not a folder|ENOTDIR)/);
  });
});
