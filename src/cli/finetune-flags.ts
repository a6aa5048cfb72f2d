import {Flags} from '@oclif/core';
import {DEFAULT_LORA_TARGETS, type FinetuneOptions} from '../workflows/finetune-options.js';
import {dataFileFlag} from './data-file-flag.js';
import {decimalFlag} from './decimal-flag.js';
import {type EngineFlagValues, engineFlagOptions, trainFlags} from './train-flags.js';

const {
  val,
  out,
  epochs,
  steps,
  'warmup-steps': warmupSteps,
  'clip-norm': clipNorm,
  'grad-accum': gradAccum,
  'eval-every': evalEvery,
  'checkpoint-every': checkpointEvery,
  tensorboard,
  resume,
  overwrite,
} = trainFlags;

/** Flags of `finetune`: the base run, the data, LoRA/full settings, and train's engine flags. */
export const finetuneFlags = {
  model: Flags.string({summary: 'Run folder of the base model (runs/BASE).', required: true}),
  data: dataFileFlag({
    summary:
      'Fine-tuning data: labeled rows (.jsonl, .csv, .tsv) for a classifier, text (.txt, .jsonl) for a language model; - reads stdin.',
    required: true,
  }),
  val,
  out,
  method: Flags.string({
    summary: 'lora: low-rank adapters on a frozen base. full: train every weight (minus --freeze).',
    options: ['lora', 'full'],
    default: 'lora',
  }),
  rank: Flags.integer({summary: 'LoRA rank.', min: 1, default: 8, helpGroup: 'LORA'}),
  alpha: decimalFlag({
    summary: 'LoRA alpha: updates scaled by alpha/rank. Default 2 × rank.',
    min: 0,
    minExclusive: true,
    helpGroup: 'LORA',
  }),
  dropout: decimalFlag({
    summary: 'Dropout on the adapters’ input, in training.',
    default: 0,
    min: 0,
    max: 0.99,
    helpGroup: 'LORA',
  }),
  rslora: Flags.boolean({summary: 'Rank-stabilised scale alpha/sqrt(rank).', helpGroup: 'LORA'}),
  targets: Flags.string({
    summary:
      'Regular expression over layer paths that get adapters: block0/attn/q, block1/ffn/down, and in MoE blocks block1/ffn/experts/up or block1/ffn/shared/gate.',
    default: DEFAULT_LORA_TARGETS,
    helpGroup: 'LORA',
  }),
  freeze: Flags.string({summary: 'Regular expression over layer paths kept fixed, e.g. "embed|block0".'}),
  merge: Flags.boolean({summary: 'Also write the merged plain model (LoRA fused in fp32) to OUT/merged.'}),
  'new-head': Flags.boolean({summary: 'Replace the classifier head with one over the fine-tuning labels.'}),
  qat: Flags.string({
    summary: 'Quantization-aware fine-tuning for this quantize/export encoding (with --method full).',
    options: ['int8', 'int4', 'uint8'],
  }),
  epochs,
  steps,
  'batch-size': Flags.integer({
    summary: 'Examples per batch (default: the base run’s).',
    min: 1,
    helpGroup: 'TRAINING',
  }),
  lr: decimalFlag({
    summary: 'Peak learning rate (default 1e-3 for lora, 1e-4 for full).',
    min: 0,
    minExclusive: true,
    helpGroup: 'TRAINING',
  }),
  'weight-decay': decimalFlag({
    summary: 'AdamW decoupled weight decay.',
    default: 0,
    min: 0,
    helpGroup: 'TRAINING',
  }),
  'warmup-steps': warmupSteps,
  'clip-norm': clipNorm,
  'grad-accum': gradAccum,
  'eval-every': evalEvery,
  'checkpoint-every': checkpointEvery,
  tensorboard,
  resume,
  overwrite,
  'text-field': Flags.string({
    summary: 'Field holding the text (default: the base run’s).',
    helpGroup: 'DATA',
  }),
  'label-field': Flags.string({
    summary: 'Field holding the label (default: the base run’s).',
    helpGroup: 'DATA',
  }),
};

export interface FinetuneFlagValues extends EngineFlagValues {
  model: string;
  data: string;
  val?: string;
  out: string;
  method: string;
  rank: number;
  alpha?: number;
  dropout: number;
  rslora: boolean;
  targets: string;
  freeze?: string;
  merge: boolean;
  'new-head': boolean;
  qat?: string;
  epochs: number;
  'text-field'?: string;
  'label-field'?: string;
}

/** The library options the finetune flags stand for. */
export function finetuneOptions(flags: FinetuneFlagValues): FinetuneOptions {
  return {
    model: flags.model,
    data: flags.data,
    val: flags.val,
    out: flags.out,
    method: flags.method as 'lora' | 'full',
    rank: flags.rank,
    alpha: flags.alpha,
    dropout: flags.dropout,
    rslora: flags.rslora,
    targets: flags.targets,
    freeze: flags.freeze,
    merge: flags.merge,
    newHead: flags['new-head'],
    qat: flags.qat as FinetuneOptions['qat'],
    ...engineFlagOptions(flags),
    textField: flags['text-field'],
    labelField: flags['label-field'],
  };
}
