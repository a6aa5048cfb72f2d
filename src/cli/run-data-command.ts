import type {Command} from '@oclif/core';
import type {DataStepOptions} from '../data/run-data-step.js';
import {UserError} from '../errors.js';
import {type DataFlagValues, dataStepOptions} from './data-flags.js';
import {dataProgressBar} from './data-progress.js';

/**
 * The part the data commands share: `--json` needs `--out` when rows would go to stdout, a progress bar on a terminal, skipped rows named on stderr, and the summary on
 * stderr unless `--json`. `run` gets the I/O options the data flags stand for.
 */
export async function runDataCommand<R>(
  command: Command,
  flags: DataFlagValues,
  label: string,
  run: (io: DataStepOptions) => Promise<R>,
  summary: (report: R) => string,
  /** False for commands that write files, not rows to stdout (`split --out-dir`). */
  rowsToStdout = true,
): Promise<R> {
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
  return report;
}
