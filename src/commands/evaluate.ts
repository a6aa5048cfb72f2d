import {Flags} from '@oclif/core';
import {dataFileFlag} from '../cli/data-file-flag.js';
import {ModelCommand} from '../cli/model-command.js';
import {type EvaluationReport, evaluateRun, formatEvaluation} from '../workflows/evaluate.js';

export default class Evaluate extends ModelCommand {
  static override enableJsonFlag = true;
  static override summary = 'Score a trained run on a labeled (or, for language models, plain) data file.';
  static override description =
    'Classifiers: accuracy, macro-F1, per-class precision/recall/F1 and the confusion matrix (rows: true ' +
    'class, columns: predicted). Language models: loss, perplexity and bits per byte. Labels the run never ' +
    'saw in training are an error naming the row. --baseline also fits TF-IDF + logistic regression on the ' +
    "run's training file and scores it on the same rows; --html writes the evaluation as one self-contained page.";
  static override examples = [
    '<%= config.bin %> <%= command.id %> --model runs/imdb --data fixtures/imdb/test.jsonl',
    '<%= config.bin %> <%= command.id %> --model runs/imdb --data fixtures/imdb/test.jsonl --json',
    '<%= config.bin %> <%= command.id %> --model runs/imdb --data fixtures/imdb/test.jsonl --baseline --html report.html',
  ];
  static override flags = {
    model: Flags.string({summary: 'Run folder written by train (runs/NAME).', required: true}),
    data: dataFileFlag({
      summary: 'Data to score (.jsonl, .csv, .tsv; .txt for language models); - reads stdin.',
      required: true,
    }),
    'text-field': Flags.string({summary: 'Field holding the text; default as in training.'}),
    'label-field': Flags.string({summary: 'Field holding the label; default as in training.'}),
    'batch-size': Flags.integer({summary: 'Examples per forward pass.', default: 64, min: 1}),
    baseline: Flags.boolean({
      summary: 'Also fit TF-IDF + logistic regression and score it on --data (text classifiers).',
    }),
    'baseline-train': dataFileFlag({
      summary: "The baseline's training rows; default the run's training file.",
      dependsOn: ['baseline'],
    }),
    html: Flags.string({
      summary:
        'Also write a self-contained HTML report: confusion matrix, per-class scores, training curves.',
    }),
  };

  async run(): Promise<EvaluationReport> {
    const {flags} = await this.parse(Evaluate);
    await this.startBackend(flags.backend);
    const result = await evaluateRun({
      model: flags.model,
      data: flags.data,
      textField: flags['text-field'],
      labelField: flags['label-field'],
      batchSize: flags['batch-size'],
      baseline: flags.baseline,
      baselineTrain: flags['baseline-train'],
      html: flags.html,
      onInfo: (message) => process.stderr.write(`${message}\n`),
    });
    if (!this.jsonEnabled()) this.log(formatEvaluation(result));
    if (result.html) process.stderr.write(`report → ${result.html}\n`);
    return result;
  }
}
