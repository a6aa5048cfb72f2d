import {Flags} from '@oclif/core';
import {ConfigError} from '../errors.js';
import {presetHelp} from '../models/registry.js';
import type {TrainRunOptions} from '../models/train-options.js';
import {dataFileFlag} from './data-file-flag.js';
import {decimalFlag} from './decimal-flag.js';

/** Flags of `train` (and of commands that train: finetune, distill). */
export const trainFlags = {
  data: dataFileFlag({
    summary: 'Training data (.jsonl, .csv, .tsv; .txt for --task lm); - reads stdin (JSONL, or text).',
    required: true,
  }),
  val: dataFileFlag({summary: 'Validation data; default a deterministic 10% holdout of --data.'}),
  task: Flags.string({
    summary: 'classify: text → label. lm: next-token language model.',
    options: ['classify', 'lm'],
    default: 'classify',
  }),
  out: Flags.string({summary: 'Run folder to write (runs/NAME).', required: true}),
  preset: Flags.string({
    summary: 'Model preset (default small): each kind’s presets are below.',
    description: presetHelp(),
    helpGroup: 'MODEL',
  }),
  config: Flags.string({
    summary: 'Model config file (YAML or JSON) over the preset; unknown keys are an error.',
    helpGroup: 'MODEL',
  }),
  tokenizer: Flags.string({
    summary: 'Use this tokenizer.json instead of training one on --data.',
    helpGroup: 'MODEL',
  }),
  'vocab-size': Flags.integer({
    summary: 'Vocabulary size of the tokenizer trained on --data.',
    min: 16,
    helpGroup: 'MODEL',
  }),
  'max-len': Flags.integer({
    summary: 'Tokens per example (longer texts are cut, shorter padded).',
    min: 2,
    helpGroup: 'MODEL',
  }),
  epochs: Flags.integer({
    summary: 'Passes over the data (ignored with --steps).',
    min: 1,
    default: 3,
    helpGroup: 'TRAINING',
  }),
  steps: Flags.integer({
    summary: 'Optimizer steps to train for, instead of epochs.',
    min: 1,
    helpGroup: 'TRAINING',
  }),
  'batch-size': Flags.integer({summary: 'Examples per batch.', min: 1, default: 32, helpGroup: 'TRAINING'}),
  lr: decimalFlag({
    summary: 'Peak learning rate (AdamW).',
    default: 1e-3,
    min: 0,
    minExclusive: true,
    helpGroup: 'TRAINING',
  }),
  'weight-decay': decimalFlag({
    summary: 'AdamW decoupled weight decay.',
    default: 0.01,
    min: 0,
    helpGroup: 'TRAINING',
  }),
  'warmup-steps': Flags.integer({
    summary: 'Linear warmup steps before cosine decay.',
    min: 0,
    default: 0,
    helpGroup: 'TRAINING',
  }),
  'clip-norm': decimalFlag({
    summary: 'Clip the global gradient norm (0: off).',
    default: 1,
    min: 0,
    helpGroup: 'TRAINING',
  }),
  'grad-accum': Flags.integer({
    summary: 'Batches per optimizer step.',
    min: 1,
    default: 1,
    helpGroup: 'TRAINING',
  }),
  'eval-every': Flags.integer({
    summary: 'Validate every N steps (default: each epoch).',
    min: 1,
    helpGroup: 'TRAINING',
  }),
  patience: Flags.integer({
    summary: 'Early stopping: evaluations without improvement of val_loss (0: off).',
    min: 0,
    default: 0,
    helpGroup: 'TRAINING',
  }),
  'checkpoint-every': Flags.integer({
    summary: 'Checkpoint every N steps (default: each epoch, and at the end).',
    min: 1,
    helpGroup: 'TRAINING',
  }),
  tensorboard: Flags.string({
    summary: 'Also write TensorBoard event files to this folder.',
    helpGroup: 'TRAINING',
  }),
  resume: Flags.boolean({
    summary: 'Continue the run in --out from its latest checkpoint.',
    exclusive: ['overwrite'],
  }),
  overwrite: Flags.boolean({summary: 'Replace the run already in --out.'}),
  'text-field': Flags.string({summary: 'Field holding the text.', default: 'text', helpGroup: 'DATA'}),
  'label-field': Flags.string({summary: 'Field holding the label.', default: 'label', helpGroup: 'DATA'}),
  features: Flags.string({
    summary: 'Numeric columns to classify on (col1,col2,…): an MLP/MoE-MLP instead of a text model.',
    helpGroup: 'DATA',
  }),
  'weight-field': Flags.string({
    summary: 'Field of per-row sample weights (rows without it weigh 1).',
    default: 'weight',
    helpGroup: 'DATA',
  }),
  'on-error': Flags.string({
    summary: 'A malformed row (bad JSON, missing or non-numeric cell): fail, or skip it with a warning.',
    options: ['fail', 'skip'],
    default: 'fail',
    helpGroup: 'DATA',
  }),
  'class-weights': Flags.string({
    summary: 'balanced: weigh each class by n / (classes · its rows) in the loss.',
    options: ['none', 'balanced'],
    default: 'none',
    helpGroup: 'TRAINING',
  }),
};

/**
 * `train`'s schedule flags: no defaults here, so a classifier's preset (or the plan chosen from the
 * data) fills what is left open; other kinds fall back to 3 epochs, lr 1e-3, batch 32, no early stopping.
 */
export const openScheduleFlags = {
  epochs: Flags.integer({
    summary:
      'Most passes over the data (default: the preset’s; 3 for language models). Ignored with --steps.',
    min: 1,
    helpGroup: 'TRAINING',
  }),
  'batch-size': Flags.integer({
    summary: 'Examples per batch (default: the preset’s, else 32).',
    min: 1,
    helpGroup: 'TRAINING',
  }),
  lr: decimalFlag({
    summary: 'Peak learning rate, AdamW (default: the preset’s, else 1e-3).',
    min: 0,
    minExclusive: true,
    helpGroup: 'TRAINING',
  }),
  patience: Flags.integer({
    summary:
      'Early stopping: evaluations without a lower val_loss, best weights kept (0: off; default 2 for text classifiers).',
    min: 0,
    helpGroup: 'TRAINING',
  }),
  budget: Flags.string({
    summary:
      'Search presets × learning rates (successive halving on the validation split) within this time: 90s, 5m, 1h.',
    helpGroup: 'TRAINING',
    exclusive: ['resume', 'preset', 'config'],
  }),
};

/** The training-engine flags that train, finetune and distill share. */
export interface EngineFlagValues {
  epochs?: number;
  steps?: number;
  'batch-size'?: number;
  lr?: number;
  'weight-decay': number;
  'warmup-steps': number;
  'clip-norm': number;
  'grad-accum': number;
  'eval-every'?: number;
  'checkpoint-every'?: number;
  tensorboard?: string;
  resume: boolean;
  overwrite: boolean;
  seed: number;
}

/** The library options the shared engine flags stand for (evaluation and checkpoints each epoch by default). */
export function engineFlagOptions(flags: EngineFlagValues) {
  return {
    epochs: flags.epochs,
    steps: flags.steps,
    batchSize: flags['batch-size'],
    lr: flags.lr,
    weightDecay: flags['weight-decay'],
    warmupSteps: flags['warmup-steps'],
    clipNorm: flags['clip-norm'],
    gradAccum: flags['grad-accum'],
    evalEvery: flags['eval-every'] ?? ('epoch' as const),
    checkpointEvery: flags['checkpoint-every'] ?? ('epoch' as const),
    tensorboardDir: flags.tensorboard,
    resume: flags.resume,
    overwrite: flags.overwrite,
    seed: flags.seed,
  };
}

export interface TrainFlagValues extends EngineFlagValues {
  data: string;
  val?: string;
  task: string;
  out: string;
  preset?: string;
  config?: string;
  tokenizer?: string;
  'vocab-size'?: number;
  'max-len'?: number;
  patience?: number;
  'text-field': string;
  'label-field': string;
  features?: string;
  'weight-field'?: string;
  'class-weights'?: string;
  'on-error'?: string;
}

/** `a, b,c` → ['a', 'b', 'c']; an empty name is a ConfigError. */
function featureList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const names = value.split(',').map((s) => s.trim());
  if (names.some((n) => n === '')) {
    throw new ConfigError(`--features "${value}" has an empty column name`, 'list columns as col1,col2,…');
  }
  return names;
}

/** The library options the train flags stand for. */
export function trainRunOptions(flags: TrainFlagValues): TrainRunOptions {
  return {
    data: flags.data,
    val: flags.val,
    out: flags.out,
    preset: flags.preset,
    configFile: flags.config,
    overrides: {maxLen: flags['max-len']},
    tokenizer: flags.tokenizer,
    vocabSize: flags['vocab-size'],
    textField: flags['text-field'],
    labelField: flags['label-field'],
    features: featureList(flags.features),
    weightField: flags['weight-field'],
    classWeights: flags['class-weights'] === 'balanced' ? 'balanced' : 'none',
    onError: flags['on-error'] === 'skip' ? 'skip' : 'fail',
    ...engineFlagOptions(flags),
    patience: flags.patience,
  };
}
