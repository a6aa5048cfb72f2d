import {Errors, flush, handle, run} from '@oclif/core';
import {isUserError} from '../errors.js';
import {guardStdout} from '../fs/stdio.js';

interface ExitableError extends Error {
  oclif?: {exit?: number};
  skipOclifErrorHandling?: boolean;
}

/**
 * Maps every failure to the kit's exit codes: 1 for usage and input errors (oclif's own parse
 * errors and the kit's `UserError`s), 2 for internal errors (anything else, printed with its stack).
 */
export function exitCodeFor(err: unknown): number {
  if (err instanceof Errors.ExitError) return err.oclif.exit ?? 0;
  if (isUserError(err)) return err.exitCode;
  if (err instanceof Errors.CLIError) return 1;
  return 2;
}

export async function main(dir: string, options: {development?: boolean} = {}): Promise<void> {
  if (options.development) process.env.NODE_ENV = 'development';
  guardStdout();
  try {
    await run(process.argv.slice(2), dir);
    await flush();
  } catch (error) {
    const err = (error instanceof Error ? error : new Error(String(error))) as ExitableError;
    const code = exitCodeFor(err);
    if (isUserError(err)) {
      // The message is the whole story: no stack trace for an input the user can fix.
      await handle(new Errors.CLIError(err.message, {exit: code}));
      return;
    }
    err.oclif = {...err.oclif, exit: code};
    await handle(err);
  }
}
