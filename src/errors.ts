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

export function isUserError(err: unknown): err is UserError {
  return err instanceof UserError;
}
