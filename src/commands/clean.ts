import {Command, Flags} from '@oclif/core';
import {dataFlags, dataStepOptions} from '../cli/data-flags.js';
import {dataProgressBar} from '../cli/data-progress.js';
import {type CleanOptions, type CleanReport, cleanDataset, formatCleanSummary} from '../data/clean.js';
import type {ModelCheckOptions} from '../data/clean-model-scorers.js';
import {DEDUP_MODES, type DedupMode} from '../data/dedup/dedup-step.js';
import {UserError} from '../errors.js';

export default class Clean extends Command {
  static override enableJsonFlag = true;
  static override summary = 'Remove exact and near-duplicate rows and rows that fail quality rules.';
  static override description =
    'Streams rows from --in (or stdin) to --out (or stdout): quality rules first (preset default drops only ' +
    'what is clearly not text; web adds the Gopher, C4 and FineWeb rules), then exact dedup on normalized text ' +
    'and near dedup (character 5-gram Jaccard; MinHash-LSH candidates, each checked exactly), keeping the first row of each group. A summary goes to stderr. --json prints ' +
    'the report on stdout, so it needs --out: without it, stdout carries the data.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --in fixtures/imdb/reviews.jsonl --out clean.jsonl --report report.json',
    'cat fixtures/imdb/reviews.jsonl | <%= config.bin %> <%= command.id %> --strip-html > clean.jsonl',
    '<%= config.bin %> <%= command.id %> --in fixtures/imdb/reviews.jsonl --out clean.jsonl --dedup near --near-threshold 0.7 --json',
    '<%= config.bin %> <%= command.id %> --in fixtures/text/moby-dick.txt --doc-sep blank --filters web --rejected dropped.jsonl --out kept.jsonl',
    '<%= config.bin %> <%= command.id %> --in fixtures/spam/emails.jsonl --quality-model runs/quality --quality-label good --min-quality 0.5 --score-field quality --out kept.jsonl',
  ];
  static override flags = {
    ...dataFlags,
    dedup: Flags.string({
      summary: 'Which duplicates to remove (exact runs first).',
      options: [...DEDUP_MODES],
      default: 'both',
    }),
    'near-threshold': Flags.string({
      summary:
        'Jaccard similarity of character 5-gram sets (case folded, punctuation and spaces as one space) that makes a near duplicate (0 < t < 1).',
      default: '0.7',
    }),
    'num-perm': Flags.integer({
      summary:
        'MinHash values per signature (more finds candidates more reliably; 2 bytes each per kept row).',
      default: 128,
      min: 8,
      max: 1024,
    }),
    'fn-weight': Flags.string({
      summary:
        'LSH bands × rows: weight of missed pairs vs extra candidates (candidates are verified; 0.5 = datasketch).',
      default: '0.9',
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
    'min-quality': Flags.string({
      summary: 'Keep rows the classifier gives at least this probability of --quality-label.',
      default: '0.5',
      helpGroup: 'MODEL CHECKS',
    }),
    'perplexity-model': Flags.string({
      summary: 'Language-model run (runs/NAME) whose perplexity scores each kept row; drops high_perplexity.',
      helpGroup: 'MODEL CHECKS',
    }),
    'max-perplexity': Flags.string({
      summary: 'Keep rows of at most this perplexity under --perplexity-model.',
      helpGroup: 'MODEL CHECKS',
    }),
    'score-field': Flags.string({
      summary:
        'Write the score onto each kept row under this field (with both models, the perplexity as <field>_perplexity).',
      helpGroup: 'MODEL CHECKS',
    }),
  };

  async run(): Promise<CleanReport> {
    const {flags} = await this.parse(Clean);
    const threshold = Number(flags['near-threshold']);
    if (!(threshold > 0 && threshold < 1)) {
      throw new UserError(`--near-threshold must be between 0 and 1, got ${flags['near-threshold']}`);
    }
    if (this.jsonEnabled() && !flags.out) {
      throw new UserError(
        '--json prints the report on stdout, which carries the data without --out',
        'add --out FILE, or use --report FILE',
      );
    }
    const bar = dataProgressBar('clean');
    const options: CleanOptions & ModelCheckOptions = {
      ...dataStepOptions(flags),
      dedup: flags.dedup as DedupMode,
      nearThreshold: threshold,
      numPerm: flags['num-perm'],
      falseNegativeWeight: Number(flags['fn-weight']),
      filters: flags.filters,
      stripHtml: flags['strip-html'] || undefined,
      report: flags.report,
      rejected: flags.rejected,
      qualityModel: flags['quality-model'],
      qualityLabel: flags['quality-label'],
      minQuality: Number(flags['min-quality']),
      perplexityModel: flags['perplexity-model'],
      maxPerplexity: flags['max-perplexity'] === undefined ? undefined : Number(flags['max-perplexity']),
      scoreField: flags['score-field'],
      onSkip: (error) => process.stderr.write(`skipped: ${error.message}\n`),
      onProgress: bar.onProgress,
    };
    const withModels = options.qualityModel !== undefined || options.perplexityModel !== undefined;
    const report = await (withModels ? cleanWithModels(options) : cleanDataset(options)).finally(bar.stop);
    if (!this.jsonEnabled()) process.stderr.write(`${formatCleanSummary(report)}\n`);
    return report;
  }
}

/** Model checks load TensorFlow.js and the kit's models (seconds): only when a model flag asks for them. */
async function cleanWithModels(options: CleanOptions & ModelCheckOptions): Promise<CleanReport> {
  const [{initBackend}, models] = await Promise.all([
    import('../backend/backend.js'),
    import('../data/clean-model-scorers.js'),
  ]);
  await initBackend({onWarning: (message) => process.stderr.write(`${message}\n`)});
  return models.cleanWithModels(options);
}
