import {Flags} from '@oclif/core';
import {DEFAULT_SKIP, type EncodeOptions, type ExportDtype} from '../compress/weight-codec.js';
import {ConfigError} from '../errors.js';
import {dataFileFlag} from './data-file-flag.js';

/** Flags of `quantize` and `export` that shape the weight encoding. */
export const quantizeFlags = {
  granularity: Flags.string({
    summary: 'int8/int4: one scale per output channel, or one per tensor.',
    options: ['per-channel', 'per-tensor'],
    default: 'per-channel',
  }),
  skip: Flags.string({
    summary: `Keep weights whose name matches this regular expression float32 (default for integer dtypes: ${DEFAULT_SKIP.source}; 'none' keeps none).`,
  }),
  'group-size': Flags.integer({
    summary: 'int8/int4: values per scale along the input axis (0: the whole axis).',
    default: 0,
    min: 0,
  }),
  overwrite: Flags.boolean({summary: 'Replace an --out folder that already holds files.'}),
  eval: dataFileFlag({
    summary:
      'Score before and after on this file (labeled data, or text for language models); - reads stdin.',
  }),
};

/** The encoding options from parsed flags; a bad --skip pattern is a ConfigError. */
export function encodeOptionsFrom(
  dtype: string,
  flags: {granularity: string; skip?: string; 'group-size': number},
): EncodeOptions {
  let skip: RegExp | null | undefined;
  if (flags.skip === 'none') skip = null;
  else if (flags.skip !== undefined) {
    try {
      skip = new RegExp(flags.skip);
    } catch (err) {
      throw new ConfigError(
        `--skip '${flags.skip}' is not a valid regular expression: ${(err as Error).message}`,
      );
    }
  }
  return {
    dtype: dtype as ExportDtype,
    granularity: flags.granularity as EncodeOptions['granularity'],
    skip,
    groupSize: flags['group-size'],
  };
}
