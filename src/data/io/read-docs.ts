import {createReadStream} from 'node:fs';
import {stat} from 'node:fs/promises';
import {basename} from 'node:path';
import {Readable} from 'node:stream';
import {DatasetError, printable, UserError} from '../../errors.js';
import type {Doc} from '../doc.js';
import {csvDocs} from './csv-docs.js';
import {type DataFormat, type DocSep, type FieldNames, resolveFields, resolveFormat} from './format.js';
import {type Line, readLines} from './lines.js';
import {rememberRawLine} from './raw-lines.js';
import {type RowOrigin, recordToDoc} from './record-to-doc.js';
import {type ByteRange, inShard, type ShardSpec} from './shard.js';

/** What to do with a malformed row: stop with an error, or skip it and go on. */
export type OnError = 'fail' | 'skip';

export interface ReadDocsOptions extends FieldNames {
  /** A file path, or a readable stream such as `process.stdin`. */
  input: string | Readable;
  /** Name of a stream input in messages and made ids. Default `stdin`. */
  sourceName?: string;
  /** Row format; default from the file extension, JSONL for a stream. */
  format?: DataFormat | string;
  /** Plain text only: one document per line (default), or paragraphs between blank lines. */
  docSep?: DocSep;
  /** Malformed row: `fail` (default) throws a DatasetError; `skip` reports it to `onSkip` and goes on. */
  onError?: OnError;
  /** Told of each skipped row, with the error that says which line and why. */
  onSkip?: (error: DatasetError) => void;
  /** Told the number of bytes read so far, once per chunk (progress bars). */
  onBytes?: (bytes: number) => void;
  /** Told the number of each line that holds bytes that are not UTF-8 (read as U+FFFD). */
  onInvalidUtf8?: (line: number) => void;
  /** Read only this shard's rows (see `parseShard` for the assignment). */
  shard?: ShardSpec;
}

/** A batch of rows and the ordinal of each in the whole input (what `--shard` assigns by). */
export interface OrderedBatch {
  docs: Doc[];
  ordinals: number[];
}

/**
 * Streams the documents of a JSONL, CSV, TSV or plain-text file (or stdin), one at a time, so a
 * file far larger than memory can be processed. Every malformed row is a `DatasetError` naming the
 * source, the line and the problem.
 */
export async function* readDocs(options: ReadDocsOptions): AsyncGenerator<Doc> {
  for await (const batch of readDocBatches(options)) yield* batch;
}

/**
 * `readDocs` a batch at a time (the rows of about 64 KiB of input): for loops that want one await
 * per chunk rather than per row.
 */
export async function* readDocBatches(options: ReadDocsOptions): AsyncGenerator<Doc[]> {
  for await (const batch of readOrderedBatches(options)) yield batch.docs;
}

/** `readDocBatches` with each row's ordinal, for steps that must name rows across shards. */
export async function* readOrderedBatches(options: ReadDocsOptions): AsyncGenerator<OrderedBatch> {
  const {input, shard} = options;
  const format = resolveFormat(typeof input === 'string' ? input : undefined, options.format);
  // A shard with a byte range reads only its range of the file: rows must be lines for that.
  const range = shard?.bytes;
  const lineRows = format === 'jsonl' || (format === 'txt' && (options.docSep ?? 'line') === 'line');
  if (range && (typeof input !== 'string' || !lineRows)) {
    throw new UserError(
      'a byte-range shard needs a JSONL or one-document-per-line text file',
      'shard CSV, TSV and paragraph text by row (--shard i/n without a plan)',
    );
  }
  const stream = typeof input === 'string' ? await openInput(input, range) : checkStream(input);
  const source = typeof input === 'string' ? input : (options.sourceName ?? 'stdin');
  const idPrefix = typeof input === 'string' ? basename(input) : source;
  const names = resolveFields(options);
  const fail = (error: DatasetError) => {
    if (options.onError !== 'skip') throw error;
    options.onSkip?.(error);
  };
  const lines = readLines(stream, source, options.onBytes, options.onInvalidUtf8, range?.firstLine);
  try {
    if (format === 'jsonl') yield* jsonlDocs(lines, source, idPrefix, names, fail, shard);
    else if (format === 'txt' && (options.docSep ?? 'line') === 'line')
      yield* textLines(lines, idPrefix, shard);
    else {
      const docs =
        format === 'txt'
          ? textDocs(lines, idPrefix, 'blank')
          : csvDocs(lines, {format, source, idPrefix, names, fail});
      yield* byIndex(docs, shard);
    }
  } finally {
    if (typeof input === 'string') stream.destroy();
  }
}

async function openInput(path: string, range?: ByteRange): Promise<Readable> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new DatasetError(`${path}: no such file`, 'check the --in path');
  if (info.isDirectory()) throw new DatasetError(`${path} is a folder`, 'give a data file with --in');
  if (!range) return createReadStream(path, {highWaterMark: 1 << 20});
  if (range.end > info.size) {
    throw new DatasetError(
      `${path}: shorter (${info.size} bytes) than the shard's byte range (${range.start}-${range.end})`,
      'the input changed since the plan: run the stages again in a new --work folder',
    );
  }
  // createReadStream's end is inclusive; an empty range reads nothing.
  if (range.end <= range.start) return Readable.from([]);
  return createReadStream(path, {highWaterMark: 1 << 20, start: range.start, end: range.end - 1});
}

function checkStream(stream: Readable): Readable {
  if ((stream as {isTTY?: boolean}).isTTY) {
    throw new UserError(
      'no input: stdin is a terminal',
      'pass --in FILE, or pipe rows in (cat data.jsonl | …)',
    );
  }
  return stream;
}

async function* jsonlDocs(
  batches: AsyncIterable<Line[]>,
  source: string,
  idPrefix: string,
  names: Required<FieldNames>,
  fail: (error: DatasetError) => void,
  shard: ShardSpec | undefined,
): AsyncGenerator<OrderedBatch> {
  for await (const lines of batches) {
    const docs: Doc[] = [];
    const ordinals: number[] = [];
    for (const {text, line} of lines) {
      if (!inShard(line - 1, shard)) continue; // another shard's line: not parsed
      const doc = jsonlDoc(text, line, source, idPrefix, names, fail);
      if (doc) {
        docs.push(doc);
        ordinals.push(line - 1);
      }
    }
    yield {docs, ordinals};
  }
}

/** Plain text, one document per line: the ordinal is the line's. */
async function* textLines(
  batches: AsyncIterable<Line[]>,
  idPrefix: string,
  shard: ShardSpec | undefined,
): AsyncGenerator<OrderedBatch> {
  for await (const lines of batches) {
    const docs: Doc[] = [];
    const ordinals: number[] = [];
    for (const {text, line} of lines) {
      if (!inShard(line - 1, shard) || text.trim() === '') continue;
      docs.push({id: `${idPrefix}:${line}`, text, fields: {}});
      ordinals.push(line - 1);
    }
    yield {docs, ordinals};
  }
}

/** CSV/TSV rows and paragraphs: the ordinal is the row's index (every shard parses every row). */
async function* byIndex(
  batches: AsyncIterable<Doc[]>,
  shard: ShardSpec | undefined,
): AsyncGenerator<OrderedBatch> {
  let next = 0;
  for await (const all of batches) {
    const docs: Doc[] = [];
    const ordinals: number[] = [];
    for (const doc of all) {
      const ordinal = next++;
      if (!inShard(ordinal, shard)) continue;
      docs.push(doc);
      ordinals.push(ordinal);
    }
    yield {docs, ordinals};
  }
}

function jsonlDoc(
  text: string,
  line: number,
  source: string,
  idPrefix: string,
  names: Required<FieldNames>,
  fail: (error: DatasetError) => void,
): Doc | undefined {
  // Blank lines are skipped; a row starting with `{` (nearly all) needs no check.
  if (text.charCodeAt(0) !== 123 && text.trim() === '') return undefined;
  let row: unknown;
  try {
    row = JSON.parse(text);
  } catch (error) {
    fail(
      new DatasetError(
        `${source} line ${line}: invalid JSON (${printable((error as Error).message)})`,
        'each line must be one complete JSON object; look for a cut-off line or an unescaped quote',
      ),
    );
    return undefined;
  }
  if (row === null || typeof row !== 'object' || Array.isArray(row)) {
    fail(
      new DatasetError(
        `${source} line ${line}: expected a JSON object, got ${Array.isArray(row) ? 'an array' : printable(JSON.stringify(row), 80)}`,
        'write one {"text": …} object per line (a JSON array file must be converted to JSONL)',
      ),
    );
    return undefined;
  }
  const doc = toDoc(row as Record<string, unknown>, names, {source, idPrefix, line}, fail);
  if (doc) rememberRawLine(doc, text, row as Record<string, unknown>, names);
  return doc;
}

function toDoc(
  record: Record<string, unknown>,
  names: Required<FieldNames>,
  at: RowOrigin,
  fail: (error: DatasetError) => void,
): Doc | undefined {
  try {
    return recordToDoc(record, names, at);
  } catch (error) {
    if (!(error instanceof DatasetError)) throw error;
    fail(error);
    return undefined;
  }
}

async function* textDocs(
  batches: AsyncIterable<Line[]>,
  idPrefix: string,
  docSep: DocSep,
): AsyncGenerator<Doc[]> {
  let para: string[] = [];
  let start = 0;
  for await (const lines of batches) {
    const docs: Doc[] = [];
    for (const {text, line} of lines) {
      const blank = text.trim() === '';
      if (docSep === 'line') {
        if (!blank) docs.push({id: `${idPrefix}:${line}`, text, fields: {}});
      } else if (!blank) {
        if (para.length === 0) start = line;
        para.push(text);
      } else if (para.length > 0) {
        docs.push({id: `${idPrefix}:${start}`, text: para.join('\n'), fields: {}});
        para = [];
      }
    }
    yield docs;
  }
  if (para.length > 0) yield [{id: `${idPrefix}:${start}`, text: para.join('\n'), fields: {}}];
}
