import {cleanFlags, runClean, runCleanWorkers, wantsModelChecks} from '../cli/clean-flags.js';
import {KitCommand} from '../cli/kit-command.js';
import {type CleanReport, cleanDataset} from '../data/clean.js';
import type {SnakeKeys} from '../data/json-keys.js';
import type {CleanWorkersReport} from '../data/stages/clean-workers.js';

export default class Clean extends KitCommand {
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
    '<%= config.bin %> <%= command.id %> --in fixtures/imdb/reviews.jsonl --out clean.jsonl --workers 2',
    '<%= config.bin %> <%= command.id %> --in fixtures/spam/emails.jsonl --quality-model runs/quality --quality-label good --min-quality 0.5 --score-field quality --out kept.jsonl',
  ];
  static override flags = cleanFlags;

  /** Set when `clean models` ran: it has printed the --json report already. */
  private handedOver = false;

  async run(): Promise<SnakeKeys<CleanReport> | SnakeKeys<CleanWorkersReport>> {
    const {flags} = await this.parse(Clean);
    // Model checks need TensorFlow.js and the kit's models (seconds to load): they run in the hidden
    // command `clean models`, which oclif loads only when it runs, so a plain clean never loads them.
    if (flags.workers !== undefined) return runCleanWorkers(flags, this.jsonEnabled());
    if (wantsModelChecks(flags)) {
      const report = await this.config.runCommand<SnakeKeys<CleanReport>>('clean:models', this.argv);
      this.handedOver = true;
      return report;
    }
    return runClean(flags, this.jsonEnabled(), cleanDataset);
  }

  protected override logJson(json: unknown): void {
    if (!this.handedOver) super.logJson(json);
  }
}
