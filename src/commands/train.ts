import {ModelCommand} from '../cli/model-command.js';
import {trainFlags, trainRunOptions} from '../cli/train-flags.js';
import {TrainProgress} from '../cli/train-progress.js';
import type {Task} from '../models/model-kind.js';
import type {TrainRunReport} from '../models/train-options.js';
import {trainRun} from '../workflows/train.js';

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
    const progress = new TrainProgress();
    const controller = new AbortController();
    const abort = () => controller.abort();
    process.once('SIGINT', abort);
    try {
      const report = await trainRun(flags.task as Task, {
        ...trainRunOptions(flags),
        signal: controller.signal,
        onStep: (e) => progress.onStep(e),
        onEval: (e) => progress.onEval(e),
        onEpoch: (e) => progress.onEpoch(e),
        onInfo: (message) => process.stderr.write(`${message}\n`),
      });
      progress.stop();
      if (!this.jsonEnabled()) this.log(formatTrainReport(report));
      return report;
    } finally {
      progress.stop();
      process.off('SIGINT', abort);
    }
  }
}

function formatTrainReport(r: TrainRunReport): string {
  const val = Object.entries(r.validation ?? {})
    .map(([k, v]) => `${k} ${v.toFixed(4)}`)
    .join('  ');
  return `trained ${r.task} in ${r.seconds.toFixed(1)}s: ${r.steps} steps, ${r.parameters} parameters, loss ${r.finalLoss.toFixed(4)}${val ? `  ${val}` : ''} → ${r.out}`;
}
