import {Flags} from '@oclif/core';
import chalk from 'chalk';
import {ModelCommand} from '../cli/model-command.js';
import {untilInterrupted} from '../cli/run-training.js';
import {type QuickstartReport, type QuickstartStage, quickstart} from '../workflows/quickstart.js';

export default class Quickstart extends ModelCommand {
  static override enableJsonFlag = true;
  static override summary = 'Run the whole pipeline on the bundled IMDB reviews, one line per stage.';
  static override description =
    'clean → split → augment → train → finetune (LoRA) → prune → quantize → export on the 2,000 IMDB reviews shipped with the kit, ' +
    'each stage through the same library function as its own command, with the test accuracy (1,000 held-out ' +
    'reviews) after training and on the exported browser model. A few minutes on 2 cores.';
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --out /tmp/dsk --overwrite --json',
  ];
  static override flags = {
    out: Flags.string({summary: 'Folder for data/, runs/ and export/.', default: 'quickstart'}),
    overwrite: Flags.boolean({summary: 'Replace --out if it already holds files.'}),
    epochs: Flags.integer({summary: 'Training epochs of the classifier.', min: 1, default: 6}),
  };

  async run(): Promise<QuickstartReport> {
    const {flags} = await this.parse(Quickstart);
    await this.startBackend(flags.backend);
    const report = await untilInterrupted((signal) =>
      quickstart({
        out: flags.out,
        overwrite: flags.overwrite,
        epochs: flags.epochs,
        seed: flags.seed,
        signal,
        onStage: (s) => process.stderr.write(`${formatStage(s)}\n`),
      }),
    );
    if (!this.jsonEnabled()) this.log(formatTable(report));
    return report;
  }
}

function formatStage(s: QuickstartStage): string {
  return `${chalk.bold(s.stage.padEnd(9))} ${s.summary}  ${chalk.dim(`${s.seconds.toFixed(1)}s`)}`;
}

function formatTable(r: QuickstartReport): string {
  const rows = r.stages.map(
    (s) => `  ${s.stage.padEnd(9)} ${s.seconds.toFixed(1).padStart(6)}s  ${s.summary}`,
  );
  return [
    `stage      seconds  result`,
    ...rows,
    `  ${'total'.padEnd(9)} ${r.seconds.toFixed(1).padStart(6)}s  test accuracy ${(100 * r.accuracy_trained).toFixed(1)}% trained, ${(100 * r.accuracy_exported).toFixed(1)}% exported → ${r.export_dir}`,
  ].join('\n');
}
