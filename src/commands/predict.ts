import {Flags} from '@oclif/core';
import {ModelCommand} from '../cli/model-command.js';
import {DATA_FORMATS} from '../data/io/format.js';
import {predictRun} from '../workflows/predict.js';

export default class Predict extends ModelCommand {
  static override enableJsonFlag = true;
  static override summary =
    'Label rows with a trained classifier: JSONL in, JSONL out with label and probabilities.';
  static override description =
    'Reads --in (or stdin) and writes --out (or stdout): each row as it came, with `label` set to the ' +
    'predicted class and `probabilities` per class; a label the row already had is kept as `input_label`. ' +
    'Rows run through the model --batch-size at a time. --json prints a summary, so it needs --out.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --model runs/imdb --in fixtures/imdb/test.jsonl --out predictions.jsonl',
    'echo \'{"text":"A wonderful film."}\' | <%= config.bin %> <%= command.id %> --model runs/imdb',
  ];
  static override flags = {
    model: Flags.string({summary: 'Run folder of a classifier (runs/NAME).', required: true}),
    in: Flags.string({summary: 'Input rows (.jsonl, .csv, .tsv, .txt); default or -: stdin.'}),
    out: Flags.string({summary: 'Output file (written whole at the end); default stdout.'}),
    format: Flags.string({
      summary: 'Input format when the extension does not say.',
      options: [...DATA_FORMATS],
    }),
    'out-format': Flags.string({
      summary: 'Output format; default from --out, else JSONL.',
      options: [...DATA_FORMATS],
    }),
    'text-field': Flags.string({summary: 'Field holding the text; default as in training.'}),
    'batch-size': Flags.integer({summary: 'Rows per forward pass.', default: 64, min: 1}),
  };

  async run(): Promise<{rows: number; labels: string[]}> {
    const {flags} = await this.parse(Predict);
    if (this.jsonEnabled() && !flags.out)
      this.error('--json prints a summary on stdout: give --out for the rows', {exit: 1});
    await this.startBackend(flags.backend);
    const report = await predictRun({
      model: flags.model,
      input: flags.in === undefined || flags.in === '-' ? process.stdin : flags.in,
      output: flags.out ?? process.stdout,
      format: flags.format,
      outFormat: flags['out-format'] ?? (flags.out ? undefined : 'jsonl'),
      textField: flags['text-field'],
      batchSize: flags['batch-size'],
      onInfo: (message) => process.stderr.write(`${message}\n`),
    });
    if (flags.out) process.stderr.write(`predicted ${report.rows} rows → ${flags.out}\n`);
    return report;
  }
}
