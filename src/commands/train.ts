import {ModelCommand} from '../cli/model-command.js';
import {runTraining} from '../cli/run-training.js';
import {trainFlags, trainRunOptions} from '../cli/train-flags.js';
import type {Task} from '../models/model-kind.js';
import type {TrainRunReport} from '../models/train-options.js';
import {formatTrainReport, trainRun} from '../workflows/train.js';

export default class Train extends ModelCommand {
  static override enableJsonFlag = true;
  static override summary = 'Train a text classifier or a language model into a run folder.';
  static override description =
    'Reads --data (and --val, or holds out a deterministic 10%), trains a tokenizer on it unless --tokenizer is ' +
    'given, builds the model from --preset/--config (flags override), and trains with AdamW, warmup + cosine ' +
    'decay and gradient clipping. Writes runs/NAME/{config.json, model/, tokenizer.json, labels.json, ' +
    'metrics.jsonl, checkpoints/}. Progress goes to stderr; Ctrl-C checkpoints and stops, --resume continues.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --data fixtures/imdb/reviews.jsonl --out runs/imdb --preset tiny',
    '<%= config.bin %> <%= command.id %> --data fixtures/spam/emails.jsonl --out runs/spam --epochs 5 --batch-size 16 --json',
    '<%= config.bin %> <%= command.id %> --data fixtures/imdb/reviews.jsonl --out runs/imdb --resume',
  ];
  static override flags = trainFlags;

  async run(): Promise<TrainRunReport> {
    const {flags} = await this.parse(Train);
    await this.startBackend(flags.backend);
    return runTraining(
      this,
      (callbacks) => trainRun(flags.task as Task, {...trainRunOptions(flags), ...callbacks}),
      formatTrainReport,
    );
  }
}
