import {stat} from 'node:fs/promises';
import {Flags} from '@oclif/core';
import {UserError} from '../errors.js';
import {stdinToFile} from './stdin-file.js';

/**
 * The path a data-file flag stands for: `-` is stdin, copied to a temporary file (see
 * `stdinToFile`); any other value must be an existing file. Errors name the flag the user passed
 * (`--val data/v.jsonl: no such file`), so they point at the right one of several file flags.
 */
export async function resolveDataFile(value: string, flag: string): Promise<string> {
  if (value === '-') return stdinToFile({flag});
  const info = await stat(value).catch(() => undefined);
  if (!info)
    throw new UserError(`${flag} ${value}: no such file`, `check the ${flag} path, or pass - to read stdin`);
  if (info.isDirectory()) throw new UserError(`${flag} ${value} is a folder`, `give ${flag} a data file`);
  return value;
}

/**
 * A flag naming one data file a command reads (`--data`, `--val`, `--eval`): checked at parse time,
 * and `-` reads stdin.
 */
export const dataFileFlag = Flags.custom<string>({
  helpValue: '<file|->',
  parse: async (input, _context, flag) => resolveDataFile(input, `--${flag.name}`),
});
