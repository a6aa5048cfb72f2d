import {Flags} from '@oclif/core';
import {DATA_FORMATS, DOC_SEPS} from '../data/io/format.js';
import {parseShard} from '../data/io/shard.js';
import type {DataStepOptions} from '../data/run-data-step.js';

/**
 * Flags shared by every data command (clean, augment, balance, split, stats). Rows come from
 * `--in` or stdin and go to `--out` or stdout, so commands chain with pipes.
 */
export const dataFlags = {
  in: Flags.string({
    summary: 'Input file (.jsonl, .csv, .tsv, .txt); default or -: stdin.',
    helpGroup: 'DATA',
  }),
  out: Flags.string({
    summary: 'Output file, written whole at the end (temp name + rename); default stdout.',
    helpGroup: 'DATA',
  }),
  format: Flags.string({
    summary: 'Input format when the extension does not say (stdin: default jsonl).',
    options: [...DATA_FORMATS],
    helpGroup: 'DATA',
  }),
  'out-format': Flags.string({
    summary: 'Output format; default from --out extension, else the input format.',
    options: [...DATA_FORMATS],
    helpGroup: 'DATA',
  }),
  'text-field': Flags.string({summary: 'Field holding the text.', default: 'text', helpGroup: 'DATA'}),
  'label-field': Flags.string({summary: 'Field holding the label.', default: 'label', helpGroup: 'DATA'}),
  'id-field': Flags.string({
    summary: 'Field holding the row id; made as <file>:<line> (stdin:<line>) when missing.',
    default: 'id',
    helpGroup: 'DATA',
  }),
  'doc-sep': Flags.string({
    summary: 'Plain text: one document per line, or paragraphs separated by blank lines.',
    options: [...DOC_SEPS],
    default: 'line',
    helpGroup: 'DATA',
  }),
  'on-error': Flags.string({
    summary: 'Malformed row: fail (exit 1, no output file written) or skip it and count it.',
    options: ['fail', 'skip'],
    default: 'fail',
    helpGroup: 'DATA',
  }),
  shard: Flags.string({
    summary: 'Only shard i of n (i/n, 0-based): rows whose line (or row) number mod n is i.',
    helpGroup: 'DATA',
  }),
};

export interface DataFlagValues {
  in?: string;
  out?: string;
  format?: string;
  'out-format'?: string;
  'text-field': string;
  'label-field': string;
  'id-field': string;
  'doc-sep': string;
  'on-error': string;
  shard?: string;
}

/** The runner options the data flags stand for (input, output, formats, fields, error policy). */
export function dataStepOptions(flags: DataFlagValues): DataStepOptions {
  return {
    input: flags.in === undefined || flags.in === '-' ? process.stdin : flags.in,
    output: flags.out ?? process.stdout,
    format: flags.format,
    outFormat: flags['out-format'],
    textField: flags['text-field'],
    labelField: flags['label-field'],
    idField: flags['id-field'],
    docSep: flags['doc-sep'] as DataStepOptions['docSep'],
    onError: flags['on-error'] as DataStepOptions['onError'],
    shard: flags.shard === undefined ? undefined : parseShard(flags.shard),
  };
}
