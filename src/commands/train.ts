import {parseDuration} from '../cli/duration.js';
import {ModelCommand} from '../cli/model-command.js';
import {runTraining} from '../cli/run-training.js';
import {openScheduleFlags, trainFlags, trainRunOptions} from '../cli/train-flags.js';
import type {Task} from '../models/model-kind.js';
import type {TrainRunReport} from '../models/train-options.js';
import {formatTrainReport, trainRun} from '../workflows/train.js';
import {
  type BudgetSearchReport,
  formatBudgetSearch,
  formatTrial,
  trainWithBudget,
} from '../workflows/train-search.js';

export default class Train extends ModelCommand {
  static override enableJsonFlag = true;
  static override summary = 'Train a text classifier or a language model into a run folder.';
  static override description =
    'Reads --data (and --val, or holds out a deterministic 10%), trains a tokenizer on it unless --tokenizer is ' +
    'given, builds the model from --preset/--config (flags override) — for a text classifier without either, ' +
    'the preset, maxLen and schedule are chosen from the data and one line says why — and trains with AdamW, warmup + cosine ' +
    'decay and gradient clipping. Writes runs/NAME/{config.json, model/, tokenizer.json, labels.json, ' +
    'metrics.jsonl, checkpoints/}. Progress goes to stderr; Ctrl-C checkpoints and stops, --resume continues. ' +
    '--budget 5m instead tries presets × learning rates by successive halving and keeps the best run.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --data fixtures/imdb/reviews.jsonl --out runs/imdb',
    '<%= config.bin %> <%= command.id %> --data fixtures/reuters/news.jsonl --out runs/reuters --budget 2m',
    '<%= config.bin %> <%= command.id %> --data fixtures/imdb/reviews.jsonl --out runs/imdb --preset tiny',
    '<%= config.bin %> <%= command.id %> --data fixtures/spam/emails.jsonl --out runs/spam --epochs 5 --batch-size 16 --json',
    '<%= config.bin %> <%= command.id %> --data fixtures/imdb/reviews.jsonl --out runs/imdb --resume',
  ];
  static override flags = {...trainFlags, ...openScheduleFlags};

  async run(): Promise<TrainRunReport | BudgetSearchReport> {
    const {flags} = await this.parse(Train);
    await this.startBackend(flags.backend);
    if (flags.budget !== undefined) {
      const budgetSeconds = parseDuration(flags.budget);
      return runTraining(
        this,
        ({signal, onInfo}) =>
          trainWithBudget(flags.task as Task, {
            ...trainRunOptions(flags),
            budgetSeconds,
            signal,
            onTrial: (t) => onInfo(formatTrial(t)),
          }),
        formatBudgetSearch,
      );
    }
    return runTraining(
      this,
      (callbacks) => trainRun(flags.task as Task, {...trainRunOptions(flags), ...callbacks}),
      formatTrainReport,
    );
  }
}
