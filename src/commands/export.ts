import {Flags} from '@oclif/core';
import {ModelCommand} from '../cli/model-command.js';
import {encodeOptionsFrom, quantizeFlags} from '../cli/quantize-flags.js';
import {formatQuantizeReport} from '../compress/format-report.js';
import {type ExportRunReport, exportRun} from '../workflows/export.js';

export default class Export extends ModelCommand {
  static override enableJsonFlag = true;
  static override summary =
    'Export a trained run as a tfjs model a browser loads (model.json + 4 MB shards).';
  static override description =
    'LoRA is fused and training-only parts dropped; tokenizer.json and labels.json are included. ' +
    '--quantize none|float16|uint16|uint8 use tfjs’s own weight formats (stock tf.loadLayersModel loads them); ' +
    'int8|int4 are per-channel and load with loadModel from deepseek-kit/runtime, which also registers the kit’s layers.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --model runs/imdb --out web/imdb --quantize int8',
    '<%= config.bin %> <%= command.id %> --model runs/imdb --out web/imdb-f16 --quantize float16 --eval fixtures/imdb/test.jsonl --json',
  ];
  static override flags = {
    model: Flags.string({summary: 'Run folder to export (runs/NAME).', required: true}),
    out: Flags.string({summary: 'Folder to write the browser model to.', required: true}),
    format: Flags.string({summary: 'Model format.', options: ['tfjs'], default: 'tfjs'}),
    quantize: Flags.string({
      summary: 'Weight encoding.',
      options: ['none', 'float16', 'uint16', 'uint8', 'int8', 'int4'],
      default: 'none',
    }),
    ...quantizeFlags,
  };

  async run(): Promise<ExportRunReport> {
    const {flags} = await this.parse(Export);
    await this.startBackend(flags.backend);
    const report = await exportRun({
      model: flags.model,
      out: flags.out,
      eval: flags.eval,
      overwrite: flags.overwrite,
      ...encodeOptionsFrom(flags.quantize, flags),
    });
    if (!this.jsonEnabled()) {
      const files = report.files.map((f) => `${f.name} ${(f.bytes / 1024).toFixed(1)} KB`).join(', ');
      this.log(
        `${formatQuantizeReport(report)}\nwrote ${flags.out}: ${files}` +
          (report.needs_runtime ? "\nload it with loadModel from 'deepseek-kit/runtime'" : ''),
      );
    }
    return report;
  }
}
