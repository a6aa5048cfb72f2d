import {Flags} from '@oclif/core';
import chalk from 'chalk';
import {ModelCommand} from '../cli/model-command.js';
import {untilInterrupted} from '../cli/run-training.js';
import {
  QUICKSTART_PARTS,
  type QuickstartReport,
  type QuickstartStage,
  quickstart,
} from '../workflows/quickstart.js';

export default class Quickstart extends ModelCommand {
  static override enableJsonFlag = true;
  static override summary =
    'Tour the kit on bundled data: an MoE classifier and an MoE language model, one line per stage.';
  static override description =
    'On the 2,000 IMDB reviews shipped with the kit: clean → split → augment → train a Mixture-of-Experts ' +
    'classifier (routed + shared experts; prints each expert’s load against its fair share and the balancing ' +
    'loss) → LoRA on the experts’ projections → drop the least-used experts → int8 → browser export, with the ' +
    'test accuracy (1,000 held-out reviews) at each step. Then a tiny MoE language model trained on the bundled ' +
    'Moby-Dick chapters continues a prompt with the KV cache. Each stage runs the library function of its own ' +
    'command. Ends with a table: time, size and accuracy or perplexity per stage. About 50 s of CPU time.';
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --only lm --out /tmp/dsk-lm',
    '<%= config.bin %> <%= command.id %> --out /tmp/dsk --overwrite --json',
  ];
  static override flags = {
    out: Flags.string({summary: 'Folder for data/, runs/ and export/.', default: 'quickstart'}),
    overwrite: Flags.boolean({summary: 'Replace --out if it already holds files.'}),
    only: Flags.string({summary: 'Run one half of the tour.', options: [...QUICKSTART_PARTS]}),
    epochs: Flags.integer({summary: 'Training epochs of the classifier.', min: 1, default: 1}),
    'lm-steps': Flags.integer({summary: 'Training steps of the language model.', min: 1, default: 300}),
  };

  async run(): Promise<QuickstartReport> {
    const {flags} = await this.parse(Quickstart);
    await this.startBackend(flags.backend);
    const report = await untilInterrupted((signal) =>
      quickstart({
        out: flags.out,
        only: flags.only as QuickstartReport['parts'][number] | undefined,
        overwrite: flags.overwrite,
        epochs: flags.epochs,
        lmSteps: flags['lm-steps'],
        seed: flags.seed,
        signal,
        onStage: (s) => process.stderr.write(`${formatStage(s)}\n`),
        onInfo: (message) => process.stderr.write(`${message}\n`),
      }),
    );
    if (!this.jsonEnabled()) this.log(formatTable(report));
    return report;
  }
}

function formatStage(s: QuickstartStage): string {
  return `${chalk.bold(s.stage.padEnd(9))} ${s.summary}  ${chalk.dim(`${s.seconds.toFixed(1)}s`)}`;
}

/** The final table: stage, seconds, size, accuracy or perplexity. */
function formatTable(r: QuickstartReport): string {
  const cell = (v: number | null, f: (x: number) => string) => (v === null ? '' : f(v));
  const rows = r.stages.map((s) =>
    [
      s.stage.padEnd(9),
      s.seconds.toFixed(1).padStart(7),
      cell(s.size_bytes, (b) => `${(b / 1e6).toFixed(2)} MB`).padStart(9),
      cell(s.accuracy, (a) => `${(100 * a).toFixed(1)}%`).padStart(9),
      cell(s.perplexity, (p) => p.toFixed(1)).padStart(10),
    ]
      .join(' ')
      .trimEnd(),
  );
  const tail = [
    r.classifier ? `browser model: ${r.classifier.export_dir}` : '',
    r.lm ? `generated: ${JSON.stringify(r.lm.prompt + r.lm.generated)}` : '',
  ].filter(Boolean);
  return [
    `stage     seconds      size  accuracy  perplexity`,
    ...rows,
    `${'total'.padEnd(9)} ${r.seconds.toFixed(1).padStart(7)}`,
    ...tail,
  ].join('\n');
}
