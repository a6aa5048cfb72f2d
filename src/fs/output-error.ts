import {UserError} from '../errors.js';

/**
 * An output could not be written: the disk is full, the place is read-only or not ours, or a part
 * of the path is not a folder. Exit 1 with the path, what the system said, and what to do — a
 * full disk or a read-only folder is the user's to fix, not a bug in the kit.
 */
export class OutputError extends UserError {}

/** What to tell the user for each errno a write can fail with. */
const REASONS: Record<string, [said: string, fix: string]> = {
  ENOSPC: ['no space left on the device', 'free some space or write somewhere else'],
  EDQUOT: ['disk quota exceeded', 'free some space or write somewhere else'],
  EFBIG: ['file too large for this file system or the file size limit (ulimit -f)', 'write somewhere else'],
  EACCES: ['permission denied', 'choose a place you may write to'],
  EPERM: ['operation not permitted', 'choose a place you may write to'],
  EROFS: ['read-only file system', 'choose a writable place'],
  ENOTDIR: ['a part of the path is a file, not a folder', 'check the path'],
  ENOENT: ['the folder does not exist', 'create it first'],
  EISDIR: ['it is a folder', 'name a file'],
  EEXIST: ['a file is in the way', 'remove it or choose another path'],
  EIO: ['input/output error from the device', 'check the disk'],
  ENAMETOOLONG: ['the name is too long', 'choose a shorter path'],
  ELOOP: ['too many symbolic links', 'check the path'],
  EMFILE: ['too many open files', 'raise the limit (ulimit -n)'],
};

/** Is this an operating-system error a user can act on (full disk, permissions, bad path)? */
export function isOutputErrno(error: unknown): error is NodeJS.ErrnoException {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && code in REASONS;
}

/**
 * `error` as an `OutputError` naming `path` when it is an OS error a user can fix; anything else
 * (a bug) comes back unchanged, to be reported as an internal error.
 */
export function outputError(path: string, error: unknown, doing = 'write'): unknown {
  if (error instanceof UserError || !isOutputErrno(error)) return error;
  const code = error.code as string;
  const [said, fix] = REASONS[code]!;
  return new OutputError(`cannot ${doing} ${path}: ${said} (${code})`, fix);
}
