import {Flags} from '@oclif/core';
import {decimalFlag} from '../cli/decimal-flag.js';
import {ModelCommand} from '../cli/model-command.js';
import {runTraining} from '../cli/run-training.js';
import {trainFlags, trainRunOptions} from '../cli/train-flags.js';
import type {DistillReport} from '../models/distill-options.js';
import {distill, formatDistillReport} from '../workflows/distill.js';

const {task: _task, features: _features, ...studentFlags} = trainFlags;

export default class Distill extends ModelCommand {
  static override enableJsonFlag = true;
  static override summary = 'Train a small student model on a trained teacher’s soft labels.';
  static override description =
    'Loss = alpha·T²·KL(softmax(teacher/T) ‖ softmax(student/T)) + (1 − alpha)·cross-entropy on the labels ' +
    '(Hinton et al. 2015). Rows of --data without a label are transfer rows, taught by the teacher alone. The ' +
    'student is --preset/--config (else the teacher’s config) with flag overrides, and reads the teacher’s ' +
    'tokenizer when it asks for the same kind and --vocab-size, else one trained on --data. The student gets ' +
    'the teacher’s labels. Teacher logits are computed per batch, or once into the run folder with ' +
    '--cache-teacher (reused by later epochs and --resume). A language-model teacher (--data .txt) teaches a ' +
    'student LM on next-token distributions, over its own tokenizer. Reports teacher and student parameters and metrics.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --teacher runs/imdb --data fixtures/imdb/reviews.jsonl --out runs/imdb-small --preset bag --vocab-size 4000',
    '<%= config.bin %> <%= command.id %> --teacher runs/imdb --data fixtures/imdb/reviews.jsonl --out runs/imdb-small --preset tiny --temperature 4 --alpha 0.9 --cache-teacher --json',
    '<%= config.bin %> <%= command.id %> --teacher runs/moby --data fixtures/text/moby-dick.txt --out runs/moby-small --preset tiny --alpha 0.8',
  ];
  static override flags = {
    teacher: Flags.string({
      summary: 'Run folder of the trained teacher (classifier or language model).',
      required: true,
    }),
    ...studentFlags,
    temperature: decimalFlag({
      summary: 'Softmax temperature T of the soft labels.',
      default: 2,
      min: 0,
      minExclusive: true,
    }),
    alpha: decimalFlag({
      summary: 'Share of the loss on the teacher’s soft labels.',
      default: 0.5,
      min: 0,
      max: 1,
    }),
    'cache-teacher': Flags.boolean({summary: 'Compute teacher logits once, cached in the run folder.'}),
  };

  async run(): Promise<DistillReport> {
    const {flags} = await this.parse(Distill);
    await this.startBackend(flags.backend);
    return runTraining(
      this,
      (callbacks) =>
        distill({
          ...trainRunOptions({...flags, task: 'classify'}),
          teacher: flags.teacher,
          temperature: flags.temperature,
          alpha: flags.alpha,
          cacheTeacher: flags['cache-teacher'],
          ...callbacks,
        }),
      formatDistillReport,
    );
  }
}
