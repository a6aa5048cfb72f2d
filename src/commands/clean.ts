import {Flags} from '@oclif/core';
import {dataFlags, dataStepOptions} from '../cli/data-flags.js';
import {dataProgressBar} from '../cli/data-progress.js';
import {decimalFlag} from '../cli/decimal-flag.js';
import {KitCommand} from '../cli/kit-command.js';
import {type CleanReport, cleanDataset, formatCleanSummary} from '../data/clean.js';
import {DEDUP_MODES, type DedupMode} from '../data/dedup/dedup-step.js';
import {UserError} from '../errors.js';

export default class Clean extends KitCommand {
  static override enableJsonFlag = true;
  static override summary = 'Remove exact and near-duplicate rows and rows that fail quality rules.';
  static override description =
    'Streams rows from --in (or stdin) to --out (or stdout): quality rules first (preset default drops only ' +
    'what is clearly not text; web adds the Gopher, C4 and FineWeb rules), then exact dedup on normalized text ' +
    'and MinHash-LSH near dedup, keeping the first row of each group. A summary goes to stderr. --json prints ' +
    'the report on stdout, so it needs --out: without it, stdout carries the data.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --in fixtures/imdb/reviews.jsonl --out clean.jsonl --report report.json',
    'cat fixtures/imdb/reviews.jsonl | <%= config.bin %> <%= command.id %> --strip-html > clean.jsonl',
    '<%= config.bin %> <%= command.id %> --in fixtures/imdb/reviews.jsonl --out clean.jsonl --dedup near --near-threshold 0.7 --json',
    '<%= config.bin %> <%= command.id %> --in fixtures/text/moby-dick.txt --doc-sep blank --filters web --rejected dropped.jsonl --out kept.jsonl',
  ];
  static override flags = {
    ...dataFlags,
    dedup: Flags.string({
      summary: 'Which duplicates to remove (exact runs first).',
      options: [...DEDUP_MODES],
      default: 'both',
    }),
    'near-threshold': decimalFlag({
      summary: 'Estimated Jaccard similarity of word 5-gram sets that makes a near duplicate.',
      default: 0.8,
      min: 0,
      max: 1,
      minExclusive: true,
      maxExclusive: true,
    }),
    'num-perm': Flags.integer({
      summary: 'MinHash permutations (finer estimates, more memory).',
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
  };

  async run(): Promise<CleanReport> {
    const {flags} = await this.parse(Clean);
    if (this.jsonEnabled() && !flags.out) {
      throw new UserError(
        '--json prints the report on stdout, which carries the data without --out',
        'add --out FILE, or use --report FILE',
      );
    }
    const bar = dataProgressBar('clean');
    const report = await cleanDataset({
      ...dataStepOptions(flags),
      dedup: flags.dedup as DedupMode,
      nearThreshold: flags['near-threshold'],
      numPerm: flags['num-perm'],
      falseNegativeWeight: flags['fn-weight'],
      filters: flags.filters,
      stripHtml: flags['strip-html'] || undefined,
      report: flags.report,
      rejected: flags.rejected,
      onSkip: (error) => process.stderr.write(`skipped: ${error.message}\n`),
      onProgress: bar.onProgress,
    }).finally(bar.stop);
    if (!this.jsonEnabled()) process.stderr.write(`${formatCleanSummary(report)}\n`);
    return report;
  }
}
