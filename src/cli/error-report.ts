import {Errors} from '@oclif/core';
import {InterruptedError, isUserError} from '../errors.js';
import {withStdinNamed} from './stdin-file.js';

/**
 * What went wrong, as the CLI reports it: one line on stderr, or with `--json` the object
 * `{"error": ErrorReport}` on stdout. `usage`: the command line is wrong (unknown command or flag, a
 * missing or out-of-range value), exit 1. `input`: a file, folder or config the user gave cannot be
 * used, exit 1. `internal`: a bug, exit 2.
 */
export interface ErrorReport {
  /** `interrupted`: a signal stopped a long job after it saved its state (exit 130 or 143). */
  code: 'usage' | 'input' | 'internal' | 'interrupted';
  message: string;
  /** How to fix it, when there is something to say. */
  hint?: string;
}

export interface ErrorContext {
  /** The executable's name, for hints (`deepseek-kit`). */
  bin: string;
  /** The command that ran, if one was found (`train`). */
  command?: string;
}

export const EXIT_CODES: Record<ErrorReport['code'], number> = {
  usage: 1,
  input: 1,
  internal: 2,
  interrupted: 130,
};

/** oclif wraps a flag's parse error as `Parsing --x \n\t<message>\nSee more help with --help`. */
const PARSING = /^Parsing (--[\w-]+)\s*\n\s*/;

/** One line: oclif's help pointer dropped, a wrapped flag error unwrapped, lines joined. */
function oneLine(message: string): string {
  let text = message;
  const parsing = PARSING.exec(text);
  if (parsing) {
    text = text.slice(parsing[0].length);
    if (!text.includes(parsing[1]!)) text = `${parsing[1]}: ${text}`;
  }
  return withStdinNamed(
    text
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !/^See more help with --help$/.test(line))
      .join('; ')
      .replace(/:;/g, ':'),
  );
}

/** Sorts any thrown value into usage, input or internal, with a one-line message and a hint. */
export function errorReport(error: unknown, context: ErrorContext): ErrorReport {
  if (error instanceof InterruptedError) return {code: 'interrupted', message: error.message};
  if (isUserError(error)) {
    // A UserError's message ends with its hint; the report carries the two apart.
    const text = oneLine(error.message);
    const suffix = error.hint ? ` — ${error.hint}` : '';
    const message = suffix && text.endsWith(suffix) ? text.slice(0, -suffix.length) : text;
    return {code: 'input', message, ...(error.hint ? {hint: error.hint} : {})};
  }
  if (error instanceof Errors.CLIError) {
    const help = context.command ? `${context.bin} ${context.command} --help` : `${context.bin} --help`;
    return {code: 'usage', message: oneLine(error.message), hint: `see ${help}`};
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    code: 'internal',
    message: oneLine(message) || 'unknown error',
    hint: 'this is a bug in deepseek-kit: please report it with the stack trace printed on stderr',
  };
}

/** The human form: `Error: <message> — <hint>`. */
export function formatErrorLine(report: ErrorReport): string {
  if (report.code === 'interrupted') return report.message;
  return `Error: ${report.message}${report.hint ? ` — ${report.hint}` : ''}`;
}

/** True when the command line asks for JSON output (`--json` before any `--`). */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}
