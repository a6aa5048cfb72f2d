import type {Command} from '@oclif/core';
import {DATA_KEYED, type SnakeKeys, snakeKeys} from '../data/json-keys.js';
import type {DataStepOptions} from '../data/run-data-step.js';
import {UserError} from '../errors.js';
import {type DataFlagValues, dataStepOptions} from './data-flags.js';
import {dataProgressBar} from './data-progress.js';

/**
 * The part the data commands share: `--json` needs `--out` when rows would go to stdout, a progress bar on a terminal, skipped rows named on stderr, and the summary on
 * stderr unless `--json`. `run` gets the I/O options the data flags stand for; the report comes back
 * with snake_case keys, as `--json` prints it.
 */
export async function runDataCommand<R>(
  command: Command,
  flags: DataFlagValues,
  label: string,
  run: (io: DataStepOptions) => Promise<R>,
  summary: (report: R) => string,
  /** False for commands that write files, not rows to stdout (`split --out-dir`). */
  rowsToStdout = true,
  /** Report fields whose keys are the data's own (see `snakeKeys`). */
  dataKeyed: readonly string[] = DATA_KEYED,
): Promise<SnakeKeys<R>> {
  const json = command.jsonEnabled();
  if (json && rowsToStdout && flags.out === undefined) {
    throw new UserError(
      '--json prints the report on stdout, which carries the data without --out',
      'add --out FILE',
    );
  }
  const bar = dataProgressBar(label);
  const report = await run({
    ...dataStepOptions(flags),
    onSkip: (error) => process.stderr.write(`skipped: ${error.message}\n`),
    onProgress: bar.onProgress,
  }).finally(bar.stop);
  if (!json) process.stderr.write(`${summary(report)}\n`);
  return snakeKeys(report, dataKeyed);
}
