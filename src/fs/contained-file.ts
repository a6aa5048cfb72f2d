import {constants} from 'node:fs';
import {lstat, open, realpath, stat} from 'node:fs/promises';
import {isAbsolute, join, relative, resolve, sep} from 'node:path';
import {ModelError, printable} from '../errors.js';

/**
 * The one rule for every file the kit reads from a run or export folder (model/, adapter/,
 * config.json, labels.json, tokenizer.json, metrics, weight shards): the name is relative, has no
 * `..` and no URL scheme; after following symbolic links (of the file and of every folder on the way,
 * so a `model/` that is itself a link out counts) it still lies inside the folder; it is a regular
 * file (a FIFO, device or directory is refused from `stat`, without opening it); and its size is
 * checked against a limit before a byte is read. Messages name the folder and the entry, never what
 * a file outside holds.
 */
export class ContainmentError extends ModelError {
  /** The file does not exist (the caller may treat it as optional). */
  missing = false;
}

/** Limits for the files of a run folder: generous for real runs, far below what exhausts memory. */
export const FILE_LIMITS = {
  /** config.json, labels.json, adapter.json, head.json. */
  json: 16 * 1024 * 1024,
  /** model.json: the topology and the manifest. */
  modelJson: 64 * 1024 * 1024,
  /** tokenizer.json (a 250k-token BPE vocabulary with merges is ~20 MB). */
  tokenizer: 256 * 1024 * 1024,
  /** One weight shard or adapter weight file. */
  weights: 8 * 1024 * 1024 * 1024,
} as const;

export interface ContainedFile {
  /** The path as the user sees it: `<folder>/<name>`. */
  path: string;
  /** Where it really is (symbolic links resolved), inside the folder. */
  real: string;
  size: number;
}

export interface ContainedFileOptions {
  /** Refuse a larger file (bytes). */
  maxBytes: number;
  /** What the file is, for messages (`labels`, `weight shard`). */
  what?: string;
}

/** Why `name` is not a plain relative path inside a folder, or undefined when it is one. */
export function unsafeName(name: unknown): string | undefined {
  if (typeof name !== 'string' || name === '') return 'is not a file name';
  if (name.includes('\0')) return 'holds a NUL character';
  if (isAbsolute(name) || /^[\\/]/.test(name)) return 'is an absolute path';
  if (/^[a-z][a-z0-9+.-]*:/i.test(name)) return 'is a URL';
  if (name.split(/[\\/]+/).includes('..')) return 'climbs out with ".."';
  return undefined;
}

/** `child` is `parent` or lies below it. */
function within(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

const kindOf = (s: import('node:fs').Stats) =>
  s.isDirectory()
    ? 'a directory'
    : s.isFIFO()
      ? 'a FIFO'
      : s.isCharacterDevice() || s.isBlockDevice()
        ? 'a device'
        : s.isSocket()
          ? 'a socket'
          : 'not a regular file';

/**
 * Resolves `name` inside `folder` under the containment rule and checks it is a regular file within
 * the size limit, without opening it. A missing file is a ContainmentError with code `ENOENT`
 * (`missing`); see {@link containedFileExists} to ask first.
 */
export async function containedFile(
  folder: string,
  name: string,
  options: ContainedFileOptions,
): Promise<ContainedFile> {
  const what = options.what ?? 'file';
  const shown = `${folder}/${printable(String(name), 120)}`;
  const why = unsafeName(name);
  if (why) {
    throw new ContainmentError(
      `${folder}: ${what} path "${printable(String(name), 120)}" ${why}`,
      'refusing to read it; files of a run folder are named relative to it, inside it',
    );
  }
  let root: string;
  try {
    root = await realpath(folder);
  } catch (err) {
    const error = new ContainmentError(
      `cannot open folder ${folder}: ${(err as NodeJS.ErrnoException).code ?? err}`,
    );
    error.missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw error;
  }
  const full = resolve(folder, name);
  let real: string;
  try {
    real = await realpath(full);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // A dangling link is reported as what it is, not as a missing file.
    const link = await lstat(full).catch(() => undefined);
    if (link?.isSymbolicLink()) {
      throw new ContainmentError(`${shown}: ${what} is a symbolic link to nothing`, 'copy the folder again');
    }
    const error = new ContainmentError(
      `${shown}: ${what} not found (${code ?? err})`,
      'copy the whole folder',
    );
    error.missing = code === 'ENOENT';
    throw error;
  }
  if (!within(real, root)) {
    throw new ContainmentError(
      `${shown}: ${what} is a symbolic link (or lies in a linked folder) leading outside ${folder}`,
      'refusing to read it; copy the file into the folder instead of linking it',
    );
  }
  const info = await stat(real);
  if (!info.isFile()) {
    throw new ContainmentError(
      `${shown}: ${what} is ${kindOf(info)}, not a regular file`,
      'refusing to read it',
    );
  }
  if (info.size > options.maxBytes) {
    throw new ContainmentError(
      `${shown}: ${what} is ${info.size} bytes, more than the ${options.maxBytes} allowed`,
      'refusing to read it; is this the right file?',
    );
  }
  return {path: shown, real, size: info.size};
}

/**
 * `folder/name` as a folder inside `folder` (after following links): for a run's `adapter/` or
 * `model/` named in its config. Returns the path to read files from.
 */
export async function containedFolder(folder: string, name: string, what = 'folder'): Promise<string> {
  const shown = `${folder}/${printable(String(name), 120)}`;
  const why = unsafeName(name);
  if (why) {
    throw new ContainmentError(
      `${folder}: ${what} path "${printable(String(name), 120)}" ${why}`,
      'refusing to read it; folders of a run are named relative to it, inside it',
    );
  }
  const [root, real] = await Promise.all([
    realpath(folder),
    realpath(resolve(folder, name)).catch(() => undefined),
  ]);
  if (!real) {
    const error = new ContainmentError(`${shown}: ${what} not found`, 'copy the whole folder');
    error.missing = true;
    throw error;
  }
  if (!within(real, root)) {
    throw new ContainmentError(
      `${shown}: ${what} is a symbolic link leading outside ${folder}`,
      'refusing to read it; copy the folder instead of linking it',
    );
  }
  if (!(await stat(real)).isDirectory()) throw new ContainmentError(`${shown}: ${what} is not a folder`);
  return join(folder, name);
}

/** True when `folder/name` exists (as anything, even a dangling link): whether to try reading it. */
export async function containedFileExists(folder: string, name: string): Promise<boolean> {
  return lstat(join(folder, name)).then(
    () => true,
    () => false,
  );
}

/**
 * Reads `folder/name` under the containment rule. The file is opened non-blocking (a FIFO swapped in
 * after the check cannot hang the read), checked again on the open handle (same file, regular, size
 * unchanged), and read to exactly its size.
 */
export async function readContainedFile(
  folder: string,
  name: string,
  options: ContainedFileOptions,
): Promise<Buffer> {
  const file = await containedFile(folder, name, options);
  const handle = await open(file.real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  try {
    const info = await handle.stat();
    if (!info.isFile() || info.size !== file.size) {
      throw new ContainmentError(`${file.path}: changed while being read`, 'try again');
    }
    const buffer = Buffer.alloc(file.size);
    let done = 0;
    while (done < file.size) {
      const {bytesRead} = await handle.read(buffer, done, file.size - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    if (done !== file.size) throw new ContainmentError(`${file.path}: changed while being read`, 'try again');
    return buffer;
  } finally {
    await handle.close();
  }
}

/**
 * Reads and parses a JSON file of a folder under the containment rule. Bad JSON is a ContainmentError
 * naming the file; the parser's message is left out, as it quotes the file's bytes.
 */
export async function readContainedJson(
  folder: string,
  name: string,
  options: ContainedFileOptions,
): Promise<unknown> {
  const data = await readContainedFile(folder, name, options);
  try {
    return JSON.parse(data.toString('utf8'));
  } catch (err) {
    const at = /position (\d+)/.exec((err as Error).message)?.[1];
    throw new ContainmentError(
      `${folder}/${name}: ${options.what ?? 'file'} is not valid JSON${at ? ` (at byte ${at})` : ''}`,
      'the file is damaged; copy the folder again',
    );
  }
}
