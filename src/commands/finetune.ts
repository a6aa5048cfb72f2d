import {finetuneFlags, finetuneOptions} from '../cli/finetune-flags.js';
import {ModelCommand} from '../cli/model-command.js';
import {runTraining} from '../cli/run-training.js';
import {finetune, formatFinetuneReport} from '../workflows/finetune.js';
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
    return runTraining(
      this,
      (callbacks) => finetune({...finetuneOptions(flags), ...callbacks}),
      formatFinetuneReport,
    );
  }
}
