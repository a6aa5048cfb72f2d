import {lstat, realpath, stat} from 'node:fs/promises';
import {dirname, resolve} from 'node:path';
import {OutputError, outputError} from './output-error.js';

/**
 * Where an output goes, decided once before anything is written:
 * - `file`: a regular file (or a name not taken yet), written under a temporary name and renamed
 *   into place at the end. A symbolic link is followed, so the link keeps pointing at the new file.
 * - `stream`: a FIFO or a character device (`/dev/null`, a terminal), or one of the process's own
 *   streams (`/dev/stdout`), written in place from the first row — renaming a file over it would
 *   replace the device or pipe with a plain file.
 * - `stdout`: the path `-`.
 * A folder, a block device or a socket is refused.
 */
export type OutputTarget =
  | {kind: 'file'; path: string; file: string}
  | {kind: 'stream'; path: string; what: 'FIFO' | 'character device' | 'open stream'}
  | {kind: 'stdout'; path: '-'};

/** Names of this process's open streams (`/dev/stdout`): written in place, whatever they point at. */
const FD_PATH = /^\/(?:dev\/(?:stdout|stderr|fd\/\d+)|proc\/(?:self|\d+)\/fd\/\d+)$/;

export async function outputTarget(path: string): Promise<OutputTarget> {
  if (path === '-') return {kind: 'stdout', path};
  if (FD_PATH.test(path)) return {kind: 'stream', path, what: 'open stream'};
  const link = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw outputError(path, error, 'write to');
  });
  const file = link?.isSymbolicLink() ? await realpath(path).catch(() => resolve(path)) : resolve(path);
  const info = link?.isSymbolicLink() ? await stat(file).catch(() => undefined) : link;
  if (info === undefined || info.isFile()) {
    const folder = await stat(dirname(file)).catch((error: NodeJS.ErrnoException) => error);
    if (folder instanceof Error) {
      throw folder.code === 'ENOENT'
        ? new OutputError(`cannot write ${path}: folder ${dirname(path)} does not exist`, 'create it first')
        : outputError(path, folder);
    }
    if (!folder.isDirectory()) {
      throw new OutputError(
        `cannot write ${path}: ${dirname(path)} is a file, not a folder`,
        'check the path',
      );
    }
    return {kind: 'file', path, file};
  }
  if (info.isFIFO()) return {kind: 'stream', path, what: 'FIFO'};
  if (info.isCharacterDevice()) return {kind: 'stream', path, what: 'character device'};
  const what = info.isDirectory() ? 'a folder' : info.isBlockDevice() ? 'a block device' : 'a socket';
  throw new OutputError(
    `refusing to write ${path}: it is ${what}`,
    info.isDirectory() ? 'name a file inside it' : 'name a regular file, a FIFO or -',
  );
}
