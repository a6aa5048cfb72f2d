import {dataFlags, dataStepOptions} from '../cli/data-flags.js';
import {KitCommand} from '../cli/kit-command.js';
import {type SnakeKeys, snakeKeys} from '../data/json-keys.js';
import {formatStats, runStats, type StatsRunReport} from '../data/stats.js';

const {out: _out, 'out-format': _outFormat, ...inputFlags} = dataFlags;

export default class Stats extends KitCommand {
  static override enableJsonFlag = true;
  static override summary = 'Describe a dataset: rows, labels, lengths, duplicates, scripts.';
  static override description =
    'Reads the rows once and reports: row count; label distribution with its KL divergence from uniform; length ' +
    'percentiles in characters and words (p5/p50/p95/max; CJK characters count as words); the share of rows that ' +
    'repeat an earlier row exactly and after normalizing (NFKC, case fold, whitespace); the writing systems of the ' +
    'letters; and a rough English-or-not guess for Latin-script rows by their share of English stop words.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --in fixtures/imdb/reviews.jsonl',
    'cat fixtures/reuters/news.jsonl | <%= config.bin %> <%= command.id %> --json',
    '<%= config.bin %> <%= command.id %> --in fixtures/text/moby-dick.txt --doc-sep blank',
  ];
  static override flags = inputFlags;

  async run(): Promise<SnakeKeys<StatsRunReport>> {
    const {flags} = await this.parse(Stats);
    const {output: _output, ...options} = dataStepOptions(flags);
    const report = await runStats({
      ...options,
      onSkip: (error) => process.stderr.write(`skipped: ${error.message}\n`),
    });
    if (!this.jsonEnabled()) this.log(formatStats(report));
    return snakeKeys(report);
  }
}
