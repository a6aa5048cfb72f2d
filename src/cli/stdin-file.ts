import {createWriteStream, rmSync} from 'node:fs';
import {mkdtemp, rename} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {Transform} from 'node:stream';
import {pipeline} from 'node:stream/promises';
import {UserError} from '../errors.js';

export interface StdinFileOptions {
  /** The flag that asked for stdin (`--data`), named in errors. */
  flag: string;
  /** Where to read. Default process.stdin. */
  stdin?: NodeJS.ReadableStream & {isTTY?: boolean};
}

/** The flag that read each stream: a stream can be read only once. */
const readBy = new WeakMap<object, string>();
/** Spooled files (named `stdin` in messages) and their folders (removed when the process exits). */
const files = new Set<string>();
const folders = new Set<string>();

/**
 * Copies stdin to a temporary file and returns its path, for library functions that open a data
 * file by name (and may read it more than once). The name says the format: `stdin.jsonl` when the
 * first non-blank character is `{`, else `stdin.txt` (plain text, a document per line); CSV/TSV need a
 * real file. The file is removed when the process exits. A terminal on stdin, a second flag asking
 * for the same stdin, or blank input is a UserError naming the flag.
 */
export async function stdinToFile(options: StdinFileOptions): Promise<string> {
  const {flag} = options;
  const stdin = options.stdin ?? process.stdin;
  const pipeHint = `pipe the data in (cat data.jsonl | …) or give ${flag} FILE`;
  const earlier = readBy.get(stdin);
  if (earlier !== undefined) {
    throw new UserError(`${flag} -: stdin is already read by ${earlier}`, `give ${flag} a file`);
  }
  if (stdin.isTTY) throw new UserError(`${flag} -: stdin is a terminal, not data`, pipeHint);
  readBy.set(stdin, flag);
  const dir = await mkdtemp(join(tmpdir(), 'deepseek-kit-stdin-'));
  if (folders.size === 0) process.once('exit', removeSpooled);
  folders.add(dir);
  let first: string | undefined;
  const sniff = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      first ??= chunk.toString('utf8').trimStart()[0];
      done(null, chunk);
    },
  });
  const raw = join(dir, 'stdin');
  await pipeline(stdin, sniff, createWriteStream(raw));
  if (first === undefined) throw new UserError(`${flag} -: stdin is empty`, pipeHint);
  const path = join(dir, first === '{' ? 'stdin.jsonl' : 'stdin.txt');
  await rename(raw, path);
  files.add(path);
  return path;
}

/** `message` with every spooled file's path replaced by `stdin`, for errors raised while reading it. */
export function withStdinNamed(message: string): string {
  let out = message;
  for (const path of files) out = out.split(path).join('stdin');
  return out;
}

function removeSpooled(): void {
  for (const dir of folders) rmSync(dir, {recursive: true, force: true});
  folders.clear();
  files.clear();
}
