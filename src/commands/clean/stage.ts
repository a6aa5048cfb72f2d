import {Args, Flags} from '@oclif/core';
import {cleanFlags, planOptions} from '../../cli/clean-flags.js';
import {KitCommand} from '../../cli/kit-command.js';
import {parseShard} from '../../data/io/shard.js';
import {type SnakeKeys, snakeKeys} from '../../data/json-keys.js';
import type {StageResult} from '../../data/stages/sign-stage.js';
import {writePlan} from '../../data/stages/stage-plan.js';
import {runStage, STAGES, type StageName} from '../../data/stages/stages.js';

export default class CleanStage extends KitCommand {
  static override enableJsonFlag = true;
  static override summary =
    'Run one stage of a sharded clean (for a batch scheduler; clean --workers runs them all).';
  static override description =
    'A sharded clean is a folder (--work) of stage files, on a filesystem every worker sees: plan (once, with the clean ' +
    'flags and --shard 0/N for N shards), then sign, exact, buckets and verify for every --shard i/N, resolve once, ' +
    'and write for every i (kept rows in <work>/out/kept-i). A stage whose output exists does nothing (--force redoes ' +
    'it); outputs are written whole, so a stage that failed is simply run again. recipes/ has a Kubernetes Indexed ' +
    'Job, a Slurm array and a GNU parallel script.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> plan --in fixtures/imdb/reviews.jsonl --work work --shard 0/4',
    '<%= config.bin %> <%= command.id %> sign --work work --shard 2/4',
    '<%= config.bin %> <%= command.id %> resolve --work work',
  ];
  static override args = {
    stage: Args.string({description: 'The stage to run.', options: ['plan', ...STAGES], required: true}),
  };
  static override flags = {
    ...cleanFlags,
    work: Flags.string({
      summary: 'The work folder of the sharded clean (shared by every worker).',
      required: true,
    }),
    force: Flags.boolean({summary: 'Run the stage again even if its output exists.'}),
  };

  async run(): Promise<SnakeKeys<StageResult | {stage: 'plan'; shards: number}>> {
    const {args, flags} = await this.parse(CleanStage);
    const shard = parseShard(flags.shard ?? '0/1');
    if (args.stage === 'plan') {
      const plan = await writePlan({
        ...planOptions({...flags, shard: undefined}),
        work: flags.work,
        shards: shard.count,
      });
      if (!this.jsonEnabled()) this.log(`plan: ${plan.shards} shards of ${plan.input} in ${flags.work}`);
      return snakeKeys({stage: 'plan', shards: plan.shards});
    }
    const result = await runStage(args.stage as StageName, flags.work, shard.index, {force: flags.force});
    if (!this.jsonEnabled()) {
      this.log(
        `${result.stage} ${result.part}: ${result.ran ? `${result.records} records in ${result.seconds.toFixed(2)} s` : 'done before'}`,
      );
    }
    return snakeKeys({...result, peakRssBytes: process.resourceUsage().maxRSS * 1024});
  }
}
