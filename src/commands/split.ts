import {Flags} from '@oclif/core';
import {dataFlags} from '../cli/data-flags.js';
import {KitCommand} from '../cli/kit-command.js';
import {runDataCommand} from '../cli/run-data-command.js';
import {DATA_KEYED, type SnakeKeys} from '../data/json-keys.js';
import {formatSplitSummary, runSplit, type SplitRunReport} from '../data/run-split.js';
import {UserError} from '../errors.js';

const {out: _out, ...flagsWithoutOut} = dataFlags;

export default class Split extends KitCommand {
  static override enableJsonFlag = true;
  static override summary = 'Split rows into train/val/test files by a hash of their normalized text.';
  static override description =
    'Each row goes to the split that a 64-bit hash of its normalized text (NFKC, case fold, collapsed whitespace) ' +
    'falls in, so exact duplicates never straddle train and test, every run gives the same split, and adding rows ' +
    'moves no other row. Writes <out-dir>/<name>.<format> for each split. --stratify gives every label the ratios ' +
    'to within one row (the split then depends on row order). Rows from augment follow the split of their source row.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --in fixtures/imdb/reviews.jsonl --out-dir splits',
    'cat fixtures/imdb/reviews.jsonl | <%= config.bin %> <%= command.id %> --ratios 0.9,0.1 --out-dir splits',
    '<%= config.bin %> <%= command.id %> --in fixtures/reuters/news.jsonl --out-dir splits --ratios 70,15,15 --names train,dev,test --stratify --json',
  ];
  static override flags = {
    ...flagsWithoutOut,
    ratios: Flags.string({summary: 'Comma-separated shares, scaled to sum to 1.', default: '0.8,0.1,0.1'}),
    names: Flags.string({
      summary: 'Comma-separated split names (default train,val,test; train,test for two).',
    }),
    'out-dir': Flags.string({summary: 'Folder for the split files (created if missing).', required: true}),
    stratify: Flags.boolean({summary: 'Give each label the ratios to within one row.'}),
    seed: Flags.integer({
      summary: 'Salt for the hash: another seed, another split (0: unsalted).',
      default: 0,
      min: 0,
    }),
  };

  async run(): Promise<SnakeKeys<SplitRunReport>> {
    const {flags} = await this.parse(Split);
    const ratios = flags.ratios.split(',').map(Number);
    if (ratios.some((r) => !(r > 0))) {
      throw new UserError(
        `--ratios must be positive numbers, got ${flags.ratios}`,
        'e.g. --ratios 0.8,0.1,0.1',
      );
    }
    return runDataCommand(
      this,
      flags,
      'split',
      (io) =>
        runSplit({
          ...io,
          outDir: flags['out-dir'],
          ratios,
          names: flags.names?.split(',').map((n) => n.trim()),
          stratify: flags.stratify,
          seed: flags.seed,
        }),
      formatSplitSummary,
      false,
      [...DATA_KEYED, 'labels'],
    );
  }
}
