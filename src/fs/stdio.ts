import {writeSync} from 'node:fs';
import type {Writable} from 'node:stream';
import {outputError} from './output-error.js';
import {discardUnfinished} from './pending-outputs.js';

type WriteFn = Writable['_write'];

/**
 * Makes a failed write to stdout (a full disk under `> file`, `> /dev/full`) end the process with
 * one line and exit 1 instead of an uncaught error with a stack: the line names stdout, what the
 * system said, and what happened to the other outputs. A reader that went away (EPIPE, `| head`)
 * is left to the writers, which stop quietly. Call once, at the start of the CLI.
 */
export function guardStdout(stdout: Writable = process.stdout): void {
  // Node writes to a file or device stdout synchronously, and such a write throws into whatever
  // printed; passed to the callback instead, it becomes the stream's 'error' event below.
  const write: WriteFn = stdout._write;
  stdout._write = function guardedWrite(this: Writable, chunk, encoding, callback) {
    try {
      write.call(this, chunk, encoding, callback);
    } catch (error) {
      callback(error as Error);
    }
  };
  // First in line: @oclif/core's own listener rethrows every error but EPIPE.
  stdout.prependListener('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') return;
    const mapped = outputError('stdout', error);
    const message = mapped instanceof Error ? mapped.message : String(error);
    const outcome = discardUnfinished('stdout');
    writeSync(2, `Error: ${message}${outcome === 'no output written' ? '' : `; ${outcome}`}\n`);
    process.exit(mapped === error ? 2 : 1);
  });
}
