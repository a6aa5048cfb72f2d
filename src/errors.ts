/**
 * Errors a user can act on. They carry the exit code the CLI uses (1: usage or input error) and,
 * where there is one, a hint that says how to fix the problem. Anything that is not a `UserError`
 * is an internal error (exit 2).
 */
export class UserError extends Error {
  readonly exitCode = 1;
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(hint ? `${message} — ${hint}` : message);
    this.name = new.target.name;
  }
}

/** A data file is malformed: names the file, the line or row, and the field. */
export class DatasetError extends UserError {}

/** A config (flags, YAML/JSON config file, model config) is invalid. */
export class ConfigError extends UserError {}

/** A requested backend cannot be loaded. */
export class BackendError extends UserError {}

/** A model folder is missing, malformed, or does not fit what is asked of it. */
export class ModelError extends UserError {}

/**
 * A long job stopped by SIGINT or SIGTERM at a step boundary, after saving what resumes it. The CLI
 * exits 128 + the signal number (130, 143) with the message, never with the job's success line.
 */
export class InterruptedError extends UserError {
  constructor(
    message: string,
    readonly signal: 'SIGINT' | 'SIGTERM',
  ) {
    super(message);
  }

  /** The exit status: 130 for SIGINT, 143 for SIGTERM. */
  get status(): number {
    return this.signal === 'SIGTERM' ? 143 : 130;
  }
}

export function isUserError(err: unknown): err is UserError {
  return err instanceof UserError;
}

// C0 and C1 control characters, DEL, and the bidirectional overrides that reorder what a terminal shows.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text from an input file made safe to quote in a message: control characters escaped (`\x1b`,
 * `\n`), so a data file cannot retitle, clear or recolour the terminal, and long quotes cut to
 * `max` characters.
 */
export function printable(text: string, max = 200): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return cut.replace(UNPRINTABLE, (c) => {
    const code = c.charCodeAt(0);
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`;
  });
}
