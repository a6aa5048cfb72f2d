import {Flags} from '@oclif/core';
import {dataFlags} from '../cli/data-flags.js';
import {decimalFlag} from '../cli/decimal-flag.js';
import {KitCommand} from '../cli/kit-command.js';
import {runDataCommand} from '../cli/run-data-command.js';
import {BALANCE_STRATEGIES, type BalanceStrategy} from '../data/balance.js';
import type {SnakeKeys} from '../data/json-keys.js';
import {type BalanceRunReport, formatBalanceSummary, runBalance} from '../data/run-balance.js';

export default class Balance extends KitCommand {
  static override enableJsonFlag = true;
  static override summary = 'Even out the labels: oversample, undersample, or add sample weights.';
  static override description =
    'oversample copies rows of smaller labels (ids <id>#copy<k>, with source_id) up to the largest label; ' +
    'undersample keeps a random subset of each label down to the smallest; weight keeps every row and adds a ' +
    '`weight` field ∝ 1/(count + smoothing), averaging 1, that training uses as sample weights. Reads the input ' +
    'twice (count, then decide row by row), so memory stays flat; stdin is first copied to a temporary file. ' +
    'Reports the label distribution and its KL divergence from uniform before and after.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --in fixtures/reuters/news.jsonl --out balanced.jsonl --strategy oversample',
    'cat fixtures/reuters/news.jsonl | <%= config.bin %> <%= command.id %> --strategy weight > weighted.jsonl',
    '<%= config.bin %> <%= command.id %> --in fixtures/reuters/news.jsonl --out small.jsonl --strategy undersample --json',
  ];
  static override flags = {
    ...dataFlags,
    strategy: Flags.string({
      summary: 'How to balance.',
      options: [...BALANCE_STRATEGIES],
      default: 'oversample',
    }),
    smoothing: decimalFlag({
      summary: 'weight: added to each label count before inverting (0: N/(K·count)).',
      default: 1,
      min: 0,
    }),
    seed: Flags.integer({summary: 'Seed for which rows are copied or kept.', default: 42, min: 0}),
  };

  async run(): Promise<SnakeKeys<BalanceRunReport>> {
    const {flags} = await this.parse(Balance);
    return runDataCommand(
      this,
      flags,
      'balance',
      (io) =>
        runBalance({
          ...io,
          strategy: flags.strategy as BalanceStrategy,
          smoothing: flags.smoothing,
          seed: flags.seed,
        }),
      formatBalanceSummary,
    );
  }
}
