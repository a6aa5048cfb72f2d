import {extname} from 'node:path';
import {ConfigError} from '../../errors.js';

/** The row formats the data steps read and write. */
export const DATA_FORMATS = ['jsonl', 'csv', 'tsv', 'txt'] as const;
export type DataFormat = (typeof DATA_FORMATS)[number];

/** How plain text is split into documents: one per line, or paragraphs between blank lines. */
export const DOC_SEPS = ['line', 'blank'] as const;
export type DocSep = (typeof DOC_SEPS)[number];

const BY_EXTENSION: Record<string, DataFormat> = {
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.json': 'jsonl',
  '.csv': 'csv',
  '.tsv': 'tsv',
  '.tab': 'tsv',
  '.txt': 'txt',
  '.text': 'txt',
};

/** The format a file name implies, or undefined when its extension is not one of ours. */
export function formatFromPath(path: string): DataFormat | undefined {
  return BY_EXTENSION[extname(path).toLowerCase()];
}

/**
 * The format to use for a file or stream: an explicit choice wins, then the file's extension, then
 * the fallback (JSONL for stdin and stdout, where there is no name to go by).
 */
export function resolveFormat(
  path: string | undefined,
  explicit: string | undefined,
  fallback: DataFormat = 'jsonl',
): DataFormat {
  if (explicit !== undefined) {
    if (!(DATA_FORMATS as readonly string[]).includes(explicit)) {
      throw new ConfigError(`unknown data format "${explicit}"`, `use one of ${DATA_FORMATS.join(', ')}`);
    }
    return explicit as DataFormat;
  }
  return (path !== undefined ? formatFromPath(path) : undefined) ?? fallback;
}

/** The field names a data step reads text, label and id from (`--text-field` and friends). */
export interface FieldNames {
  /** Field holding the document text. Default `text`. */
  textField?: string;
  /** Field holding the class label, if any. Default `label`. */
  labelField?: string;
  /** Field holding a stable row id; made from source and line when missing. Default `id`. */
  idField?: string;
}

export const DEFAULT_FIELDS: Required<FieldNames> = {textField: 'text', labelField: 'label', idField: 'id'};

/** The field names with defaults filled in (an explicit `undefined` also means the default). */
export function resolveFields(names: FieldNames): Required<FieldNames> {
  return {
    textField: names.textField ?? DEFAULT_FIELDS.textField,
    labelField: names.labelField ?? DEFAULT_FIELDS.labelField,
    idField: names.idField ?? DEFAULT_FIELDS.idField,
  };
}

/** Name of the field that carries `Doc.weight` (written by `balance --strategy weight`). */
export const WEIGHT_FIELD = 'weight';
