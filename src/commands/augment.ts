import {Flags} from '@oclif/core';
import {dataFlags} from '../cli/data-flags.js';
import {decimalFlag} from '../cli/decimal-flag.js';
import {KitCommand} from '../cli/kit-command.js';
import {runDataCommand} from '../cli/run-data-command.js';
import {
  AUGMENT_OPS,
  type AugmentOp,
  type AugmentRunReport,
  formatAugmentSummary,
  runAugment,
} from '../data/augment.js';
import type {SnakeKeys} from '../data/json-keys.js';
import {UserError} from '../errors.js';

export default class Augment extends KitCommand {
  static override enableJsonFlag = true;
  static override summary =
    'Add EDA copies of each row: synonym replacement, insertion, swap, deletion, typos.';
  static override description =
    'Easy Data Augmentation (Wei & Zou 2019): each row is written, then --num-aug copies, each made by one op ' +
    '(sr: WordNet synonyms for non-stop words, ri: insert a synonym, rs: swap words, rd: delete words, typo: ' +
    'keyboard typos) changing max(1, alpha·words) words. Copies keep the label and fields and carry augmented: true, ' +
    "source_id and augment_op; their ids are <source id>#aug<k>. Same --seed, same output; a row's copies depend " +
    'only on the seed and its id. CJK rows get no synonym ops. Evaluate on rows without augmented: true (split sends copies to the split of their source row).';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --in fixtures/imdb/reviews.jsonl --out augmented.jsonl',
    'cat fixtures/imdb/reviews.jsonl | <%= config.bin %> <%= command.id %> --num-aug 2 > augmented.jsonl',
    '<%= config.bin %> <%= command.id %> --in fixtures/imdb/reviews.jsonl --out typos.jsonl --ops typo --alpha 0.05 --no-keep-original --json',
  ];
  static override flags = {
    ...dataFlags,
    alpha: decimalFlag({
      summary: 'Share of words each op changes (deletion: probability per word).',
      default: 0.1,
      min: 0,
      minExclusive: true,
      max: 1,
    }),
    'num-aug': Flags.integer({summary: 'New rows per input row.', default: 4, min: 0, max: 64}),
    ops: Flags.string({
      summary: `Comma-separated ops to use: ${AUGMENT_OPS.join(',')}.`,
      default: AUGMENT_OPS.join(','),
    }),
    seed: Flags.integer({summary: 'Seed: same seed and input, same output.', default: 42, min: 0}),
    'keep-original': Flags.boolean({summary: 'Also write each input row.', default: true, allowNo: true}),
  };

  async run(): Promise<SnakeKeys<AugmentRunReport>> {
    const {flags} = await this.parse(Augment);
    const ops = flags.ops.split(',').map((op) => op.trim());
    const unknown = ops.filter((op) => !(AUGMENT_OPS as readonly string[]).includes(op));
    if (unknown.length > 0 || ops.length === 0) {
      throw new UserError(
        `unknown op ${unknown.join(', ') || '(none)'} in --ops`,
        `choose from ${AUGMENT_OPS.join(',')}`,
      );
    }
    return runDataCommand(
      this,
      flags,
      'augment',
      (io) =>
        runAugment({
          ...io,
          alpha: flags.alpha,
          numAug: flags['num-aug'],
          ops: ops as AugmentOp[],
          seed: flags.seed,
          keepOriginal: flags['keep-original'],
        }),
      formatAugmentSummary,
    );
  }
}
