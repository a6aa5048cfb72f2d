import {Flags, type Interfaces} from '@oclif/core';
import type {CleanOptions, CleanReport} from '../data/clean.js';
import {formatCleanSummary} from '../data/clean.js';
import {DEDUP_MODES, type DedupMode} from '../data/dedup/dedup-step.js';
import {type SnakeKeys, snakeKeys} from '../data/json-keys.js';
import {type CleanWorkersReport, cleanWithWorkers} from '../data/stages/clean-workers.js';
import type {PlanOptions} from '../data/stages/stage-plan.js';
import {UserError} from '../errors.js';
import type {ModelCheckOptions} from '../workflows/clean-with-models.js';
import {dataFlags, dataStepOptions} from './data-flags.js';
import {dataProgressBar} from './data-progress.js';
import {decimalFlag} from './decimal-flag.js';
import {modelFlags} from './flags.js';

/** Flags of `clean` (and of its model-check variant, `clean models`, which `clean` hands over to). */
export const cleanFlags = {
  backend: modelFlags.backend,
  ...dataFlags,
  dedup: Flags.string({
    summary: 'Which duplicates to remove (exact runs first).',
    options: [...DEDUP_MODES],
    default: 'both',
  }),
  'near-threshold': decimalFlag({
    summary:
      'Jaccard similarity of character 5-gram sets (case folded, punctuation and spaces as one space) that makes a near duplicate.',
    default: 0.7,
    min: 0,
    max: 1,
    minExclusive: true,
    maxExclusive: true,
  }),
  'num-perm': Flags.integer({
    summary: 'MinHash values per signature (more finds candidates more reliably; 2 bytes each per kept row).',
    default: 128,
    min: 8,
    max: 1024,
  }),
  'fn-weight': decimalFlag({
    summary:
      'LSH bands × rows: weight of missed pairs vs extra candidates (candidates are verified; 0.5 = datasketch).',
    default: 0.9,
    min: 0,
    max: 1,
    minExclusive: true,
    maxExclusive: true,
  }),
  filters: Flags.string({
    summary:
      'Quality rules: default (only clear non-text), web (Gopher, C4, FineWeb), none, or a YAML/JSON file.',
    default: 'default',
  }),
  'strip-html': Flags.boolean({
    summary: 'Turn stray markup (<br />, &amp;) into plain text before the rules.',
  }),
  report: Flags.string({
    summary: 'Write the JSON report here (counts, drops per reason, duplicate groups).',
  }),
  rejected: Flags.string({
    summary: 'Write every dropped row here, with drop_reason and drop_detail fields.',
  }),
  'quality-model': Flags.string({
    summary:
      'Classifier run (runs/NAME) that scores each row kept by the rules and dedup; drops low_quality.',
    helpGroup: 'MODEL CHECKS',
  }),
  'quality-label': Flags.string({
    summary: "The classifier's label for good rows.",
    default: 'good',
    helpGroup: 'MODEL CHECKS',
  }),
  'min-quality': decimalFlag({
    summary: 'Keep rows the classifier gives at least this probability of --quality-label.',
    default: 0.5,
    min: 0,
    max: 1,
    helpGroup: 'MODEL CHECKS',
  }),
  'perplexity-model': Flags.string({
    summary: 'Language-model run (runs/NAME) whose perplexity scores each kept row; drops high_perplexity.',
    helpGroup: 'MODEL CHECKS',
  }),
  'max-perplexity': decimalFlag({
    summary: 'Keep rows of at most this perplexity under --perplexity-model.',
    min: 1,
    helpGroup: 'MODEL CHECKS',
  }),
  workers: Flags.integer({
    summary:
      'Run the sharded stages with this many local processes (needs --in FILE and --out); same rows kept as one process.',
    min: 1,
    max: 256,
  }),
  'score-field': Flags.string({
    summary:
      'Write the score onto each kept row under this field (with both models, the perplexity as <field>_perplexity).',
    helpGroup: 'MODEL CHECKS',
  }),
};
export type CleanFlags = Interfaces.InferredFlags<typeof cleanFlags>;

/** The options of a sharded clean's plan that the clean flags stand for. */
export function planOptions(flags: CleanFlags): Omit<PlanOptions, 'work' | 'shards'> {
  const io = dataStepOptions(flags);
  if (typeof io.input !== 'string') {
    throw new UserError(
      'a sharded clean needs --in FILE: every worker reads the input',
      'write stdin to a file first',
    );
  }
  return {
    input: io.input,
    format: io.format,
    docSep: io.docSep,
    fields: {textField: io.textField, labelField: io.labelField, idField: io.idField},
    onError: io.onError,
    filters: flags.filters,
    stripHtml: flags['strip-html'] || undefined,
    dedup: flags.dedup as DedupMode,
    nearThreshold: flags['near-threshold'],
    numPerm: flags['num-perm'],
    falseNegativeWeight: flags['fn-weight'],
  };
}

/** `clean --workers N`: the stages in N local processes, the summary on stderr. */
export async function runCleanWorkers(
  flags: CleanFlags,
  jsonEnabled: boolean,
): Promise<SnakeKeys<CleanWorkersReport>> {
  if (!flags.out) throw new UserError('clean --workers needs --out FILE', 'the shards are merged into it');
  if (wantsModelChecks(flags) || flags.shard) {
    throw new UserError(
      'clean --workers runs rules and dedup only',
      'drop --quality-model/--perplexity-model and --shard, or --workers',
    );
  }
  const report = await cleanWithWorkers({
    ...planOptions(flags),
    workers: flags.workers!,
    output: flags.out,
    rejected: flags.rejected,
    onStage: (s) => {
      if (!jsonEnabled)
        process.stderr.write(
          `  stage ${s.stage} ${s.part}: ${s.records} records, ${s.seconds.toFixed(2)} s${s.ran ? '' : ' (done before)'}\n`,
        );
    },
  });
  if (!jsonEnabled) {
    const dropped = Object.entries(report.dropped)
      .map(([r, c]) => `${r} ${c}`)
      .join(', ');
    process.stderr.write(
      `clean: ${report.rowsIn} rows in, ${report.rowsOut} out with ${report.workers} workers (${report.input} → ${report.output})\n` +
        (dropped ? `  dropped: ${dropped}\n` : '') +
        `  ${report.seconds.toFixed(2)} s, ${report.megabytesPerSecond.toFixed(1)} MB/s\n`,
    );
  }
  return snakeKeys(report);
}

/** True when a flag asks for a model check (which needs TensorFlow.js and the kit's models). */
export const wantsModelChecks = (flags: CleanFlags) =>
  flags['quality-model'] !== undefined || flags['perplexity-model'] !== undefined;

/**
 * Runs `clean` with the options its flags give, a progress bar on a TTY and the summary on stderr;
 * `clean` passes the data-only cleaner, `clean models` the one with model checks. Returns the report
 * as `--json` prints it (snake_case keys).
 */
export async function runClean(
  flags: CleanFlags,
  jsonEnabled: boolean,
  clean: (options: CleanOptions & ModelCheckOptions) => Promise<CleanReport>,
): Promise<SnakeKeys<CleanReport>> {
  if (jsonEnabled && !flags.out) {
    throw new UserError(
      '--json prints the report on stdout, which carries the data without --out',
      'add --out FILE, or use --report FILE',
    );
  }
  const bar = dataProgressBar('clean');
  const report = await clean({
    ...dataStepOptions(flags),
    dedup: flags.dedup as DedupMode,
    nearThreshold: flags['near-threshold'],
    numPerm: flags['num-perm'],
    falseNegativeWeight: flags['fn-weight'],
    filters: flags.filters,
    stripHtml: flags['strip-html'] || undefined,
    report: flags.report,
    rejected: flags.rejected,
    qualityModel: flags['quality-model'],
    qualityLabel: flags['quality-label'],
    minQuality: flags['min-quality'],
    perplexityModel: flags['perplexity-model'],
    maxPerplexity: flags['max-perplexity'],
    scoreField: flags['score-field'],
    onSkip: (error) => process.stderr.write(`skipped: ${error.message}\n`),
    onProgress: bar.onProgress,
  }).finally(bar.stop);
  if (!jsonEnabled) process.stderr.write(`${formatCleanSummary(report)}\n`);
  return snakeKeys(report);
}
