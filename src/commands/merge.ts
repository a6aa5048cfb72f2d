import {Flags} from '@oclif/core';
import {ModelCommand} from '../cli/model-command.js';
import {type MergeReport, mergeAdapter} from '../workflows/merge.js';

export default class Merge extends ModelCommand {
  static override enableJsonFlag = true;
  static override summary = 'Merge a LoRA run’s adapter into its base: a plain run folder, fused in fp32.';
  static override description =
    'Puts the adapter (and trained head) of --adapter, a finetune --method lora run, on --model and writes ' +
    'W + scale·A·B into plain layers: the result loads, evaluates, quantizes and exports without the adapter. ' +
    'An adapter that does not fit the base stops with the layer and both shapes; a base with other weights ' +
    'but the same shapes is merged with a warning.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --model runs/imdb --adapter runs/imdb-lora --out runs/imdb-merged',
  ];
  static override flags = {
    model: Flags.string({summary: 'Run folder of the base model (runs/BASE).', required: true}),
    adapter: Flags.string({
      summary: 'Run folder written by finetune --method lora (runs/FT).',
      required: true,
    }),
    out: Flags.string({summary: 'Run folder to write the merged model to.', required: true}),
    overwrite: Flags.boolean({summary: 'Replace the run already in --out.'}),
  };

  async run(): Promise<MergeReport> {
    const {flags} = await this.parse(Merge);
    await this.startBackend(flags.backend);
    const report = await mergeAdapter({
      model: flags.model,
      adapter: flags.adapter,
      out: flags.out,
      overwrite: flags.overwrite,
      onInfo: (message) => process.stderr.write(`${message}\n`),
    });
    if (!this.jsonEnabled()) {
      this.log(
        `merged ${report.layers.length} adapted layers of ${report.adapter} into ${report.base} ` +
          `(${report.total_params} parameters) → ${report.out}`,
      );
    }
    return report;
  }
}
