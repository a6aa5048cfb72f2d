import {finetuneFlags, finetuneOptions} from '../cli/finetune-flags.js';
import {ModelCommand} from '../cli/model-command.js';
import {TrainProgress} from '../cli/train-progress.js';
import {finetune} from '../workflows/finetune.js';
import type {FinetuneReport} from '../workflows/finetune-options.js';

export default class Finetune extends ModelCommand {
  static override enableJsonFlag = true;
  static override summary = 'Fine-tune a trained run on new data: LoRA adapters on a frozen base, or full.';
  static override description =
    'Loads --model (a run folder), reads --data with its tokenizer, and trains with the same engine as train ' +
    '(schedule, clipping, checkpoints, Ctrl-C and --resume). LoRA writes only the adapter (OUT/adapter) and a ' +
    'fingerprinted reference to the base; evaluate and predict load base + adapter. --merge also writes the fused ' +
    'plain model to OUT/merged. New labels need --new-head, which replaces the classifier head.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --model runs/imdb --data fixtures/imdb/test.jsonl --out runs/imdb-lora',
    '<%= config.bin %> <%= command.id %> --model runs/imdb --data fixtures/imdb/test.jsonl --out runs/imdb-full --method full --freeze "embed|block0"',
    '<%= config.bin %> <%= command.id %> --model runs/imdb --data fixtures/spam/emails.jsonl --out runs/spam --new-head --merge --json',
  ];
  static override flags = finetuneFlags;

  async run(): Promise<FinetuneReport> {
    const {flags} = await this.parse(Finetune);
    await this.startBackend(flags.backend);
    const progress = new TrainProgress();
    const controller = new AbortController();
    const abort = () => controller.abort();
    process.once('SIGINT', abort);
    try {
      const report = await finetune({
        ...finetuneOptions(flags),
        signal: controller.signal,
        onStep: (e) => progress.onStep(e),
        onEval: (e) => progress.onEval(e),
        onEpoch: (e) => progress.onEpoch(e),
        onInfo: (message) => progress.line(message),
      });
      progress.stop();
      if (!this.jsonEnabled()) this.log(formatFinetuneReport(report));
      return report;
    } finally {
      progress.stop();
      process.off('SIGINT', abort);
    }
  }
}

function formatFinetuneReport(r: FinetuneReport): string {
  const share = ((100 * r.trainable_params) / r.total_params).toFixed(2);
  const val = Object.entries(r.validation ?? {})
    .map(([k, v]) => `${k} ${v.toFixed(4)}`)
    .join('  ');
  const saved = r.adapterBytes !== undefined ? ` (adapter ${(r.adapterBytes / 1024).toFixed(1)} KB)` : '';
  return (
    `fine-tuned ${r.base} (${r.method}) in ${r.seconds.toFixed(1)}s: ${r.steps} steps, ` +
    `${r.trainable_params} of ${r.total_params} parameters trained (${share}%), loss ${r.finalLoss.toFixed(4)}` +
    `${val ? `  ${val}` : ''} → ${r.out}${saved}${r.merged ? `; merged → ${r.merged}` : ''}`
  );
}
