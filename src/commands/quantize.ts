import {Flags} from '@oclif/core';
import {ModelCommand} from '../cli/model-command.js';
import {encodeOptionsFrom, quantizeFlags} from '../cli/quantize-flags.js';
import {formatQuantizeReport} from '../compress/format-report.js';
import {type QuantizeRunReport, quantizeRun} from '../workflows/quantize.js';

export default class Quantize extends ModelCommand {
  static override enableJsonFlag = true;
  static override summary =
    'Quantize a trained run’s weights (int8, int4, float16) and report size, error and metric change.';
  static override description =
    'Post-training weight quantization: symmetric abs-max, one scale per output channel by default (int4 packs ' +
    'two values a byte; --group-size adds a scale per group of inputs). Norms and MoE routers stay float32 ' +
    'unless --skip says otherwise. The output is a run folder the kit loads (weights dequantized at load).';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --model runs/imdb --out runs/imdb-int8 --dtype int8 --eval fixtures/imdb/test.jsonl',
    '<%= config.bin %> <%= command.id %> --model runs/imdb --out runs/imdb-int4 --dtype int4 --group-size 32 --json',
  ];
  static override flags = {
    model: Flags.string({summary: 'Run folder to quantize (runs/NAME).', required: true}),
    out: Flags.string({summary: 'Run folder to write.', required: true}),
    dtype: Flags.string({summary: 'Weight type.', options: ['int8', 'int4', 'float16'], default: 'int8'}),
    ...quantizeFlags,
  };

  async run(): Promise<Omit<QuantizeRunReport, 'rows'> | QuantizeRunReport> {
    const {flags} = await this.parse(Quantize);
    await this.startBackend(flags.backend);
    const report = await quantizeRun({
      model: flags.model,
      out: flags.out,
      eval: flags.eval,
      overwrite: flags.overwrite,
      ...encodeOptionsFrom(flags.dtype, flags),
    });
    if (!this.jsonEnabled()) this.log(`${formatQuantizeReport(report)}\nwrote ${flags.out}`);
    return report;
  }
}
