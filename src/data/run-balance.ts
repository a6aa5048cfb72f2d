import type {Readable} from 'node:stream';
import {UserError} from '../errors.js';
import {type BalanceOptions, type BalanceReport, Balancer, countLabels} from './balance.js';
import {formatInputIssues} from './io/input-issues.js';
import {readDocs} from './io/read-docs.js';
import {formatLabelDistribution} from './label-distribution.js';
import {type DataStepOptions, type DataStepStats, runDataStep} from './run-data-step.js';
import {type Spool, spool} from './spool.js';

export interface BalanceRunReport extends BalanceReport {
  /** Reading and writing: rows, malformed rows skipped, rows dropped (`undersampled`), time. */
  io: DataStepStats;
  /** True when the input was a stream, copied to a temporary file for the two passes. */
  spooled: boolean;
}

/**
 * Balances a dataset in two passes over the input — count the labels, then stream every row
 * through a `Balancer` — so memory does not grow with the input. A stream input (stdin) is first
 * copied to a temporary file, deleted at the end.
 */
export async function runBalance(options: BalanceOptions & DataStepOptions): Promise<BalanceRunReport> {
  const input = options.input ?? process.stdin;
  let copy: Spool | undefined;
  const source = (): string | Readable => (copy ? copy.open() : (input as string));
  try {
    if (typeof input !== 'string') {
      if ((input as {isTTY?: boolean}).isTTY) {
        throw new UserError(
          'no input: stdin is a terminal',
          'pass --in FILE, or pipe rows in (cat data.jsonl | …)',
        );
      }
      copy = await spool(input);
    }
    // Malformed rows are skipped (or fail) in this pass too, so both passes see the same rows;
    // the runner of the second pass is the one that counts and reports them.
    const counts = await countLabels(readDocs({...options, input: source(), onSkip: undefined}));
    const balancer = new Balancer(counts, options);
    const io = await runDataStep((doc) => balancer.apply(doc), {
      ...options,
      input: source(),
      columns: [...(options.columns ?? []), 'source_id'],
    });
    return {...balancer.report(), io, spooled: copy !== undefined};
  } finally {
    await copy?.dispose();
  }
}

/** The stderr summary: strategy, rows, label distribution and KL before and after. */
export function formatBalanceSummary(r: BalanceRunReport): string {
  const lines = [
    `balance (${r.strategy}${r.strategy === 'weight' ? `, smoothing ${r.smoothing}` : `, seed ${r.seed}`}): ` +
      `${r.rowsIn} rows in → ${r.rowsOut} out in ${r.io.seconds.toFixed(1)} s`,
    `  before  ${formatLabelDistribution(r.before)}`,
    `  after   ${formatLabelDistribution(r.after, r.strategy === 'weight' ? 1 : 0)}${r.strategy === 'weight' ? ' (by weight)' : ''}`,
  ];
  if (r.weights) {
    lines.push(
      `  weights ${Object.entries(r.weights)
        .map(([label, w]) => `${label} ${w}`)
        .join(' · ')}`,
    );
  }
  lines.push(...formatInputIssues(r.io));
  if (r.spooled) lines.push('  (the input stream was copied to a temporary file to read it twice)');
  return lines.join('\n');
}
