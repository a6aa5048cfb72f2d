import {Flags} from '@oclif/core';
import {dataFileFlag} from '../cli/data-file-flag.js';
import {decimalFlag} from '../cli/decimal-flag.js';
import {ModelCommand} from '../cli/model-command.js';
import {PRUNE_STRUCTURES, type PruneStructure} from '../compress/prune-structures.js';
import {PRUNE_METHODS, type PruneMethod, type PruneRunReport, pruneRun} from '../workflows/prune.js';
import {formatPruneReport} from '../workflows/prune-report.js';

export default class Prune extends ModelCommand {
  static override enableJsonFlag = true;
  static override summary =
    'Prune a trained run (magnitude, structured FFN neurons/heads/units, MoE experts) and report what it saves.';
  static override description =
    'magnitude: zero the smallest weights (global or per-layer threshold; embeddings included, MoE routers, norms ' +
    'and biases kept), at once or gradually while fine-tuning on --data (Zhu & Gupta schedule, masks held). Zeros ' +
    'are stored densely, so the folder only shrinks once quantized or compressed. structured: remove the SwiGLU ' +
    'FFN neurons, attention heads (whole KV groups under grouped-query attention) and Dense hidden units of least ' +
    'L1 norm (--structure picks which; default all the model has) and rebuild smaller layers. experts: drop the MoE experts least used on --data ' +
    'and shrink the routers. The output is a normal run folder; --eval reports the metric before and after.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --model runs/imdb --out runs/imdb-sparse --method magnitude --sparsity 0.5 --data fixtures/imdb/reviews.jsonl --steps 100 --eval fixtures/imdb/test.jsonl',
    '<%= config.bin %> <%= command.id %> --model runs/imdb --out runs/imdb-slim --method structured --sparsity 0.3 --eval fixtures/imdb/test.jsonl --json',
    '<%= config.bin %> <%= command.id %> --model runs/imdb --out runs/imdb-3heads --method structured --structure heads --sparsity 0.25 --data fixtures/imdb/reviews.jsonl --steps 50 --eval fixtures/imdb/test.jsonl',
    '<%= config.bin %> <%= command.id %> --model runs/imdb-moe --out runs/imdb-moe-3 --method experts --sparsity 0.25 --data fixtures/imdb/reviews.jsonl',
  ];
  static override flags = {
    model: Flags.string({summary: 'Run folder to prune (runs/NAME).', required: true}),
    out: Flags.string({summary: 'Run folder to write.', required: true}),
    method: Flags.string({summary: 'What to remove.', options: [...PRUNE_METHODS], default: 'magnitude'}),
    sparsity: decimalFlag({
      summary:
        'Fraction removed: of the weights (magnitude), of each structure (structured), of the experts (experts).',
      default: 0.5,
      min: 0,
      max: 1,
      maxExclusive: true,
    }),
    structure: Flags.string({
      summary: 'structured: remove FFN neurons, attention heads, Dense hidden units, or all the model has.',
      options: [...PRUNE_STRUCTURES],
    }),
    scope: Flags.string({
      summary: 'magnitude: one threshold for all weights, or one per layer.',
      options: ['global', 'layer'],
      default: 'global',
    }),
    skip: Flags.string({
      summary:
        "magnitude: keep weights whose name matches this regular expression dense (default 'router'; 'none' prunes all).",
    }),
    data: dataFileFlag({
      summary:
        'Labeled data: magnitude and structured fine-tune on it; experts counts expert usage on it. - reads stdin.',
    }),
    steps: Flags.integer({
      summary: 'Fine-tuning steps on --data (default 100; experts: only when given).',
      min: 1,
    }),
    schedule: Flags.string({
      summary: 'magnitude with --data: raise sparsity gradually, or prune at once then fine-tune.',
      options: ['gradual', 'one-shot'],
      default: 'gradual',
    }),
    lr: decimalFlag({
      summary: "Fine-tuning learning rate (default: a tenth of the run's).",
      min: 0,
      minExclusive: true,
    }),
    eval: dataFileFlag({
      summary:
        'Score before and after on this file (labeled data, or text for language models); - reads stdin.',
    }),
    overwrite: Flags.boolean({summary: 'Replace an --out folder that already holds files.'}),
  };

  async run(): Promise<PruneRunReport> {
    const {flags} = await this.parse(Prune);
    await this.startBackend(flags.backend);
    const report = await pruneRun({
      model: flags.model,
      out: flags.out,
      method: flags.method as PruneMethod,
      sparsity: flags.sparsity,
      structure: flags.structure as PruneStructure | undefined,
      scope: flags.scope as 'global' | 'layer',
      skip: flags.skip,
      data: flags.data,
      steps: flags.steps,
      schedule: flags.schedule as 'gradual' | 'one-shot',
      lr: flags.lr,
      seed: flags.seed,
      eval: flags.eval,
      overwrite: flags.overwrite,
    });
    if (!this.jsonEnabled()) this.log(`${formatPruneReport(report)}\nwrote ${flags.out}`);
    return report;
  }
}
