import type {Writable} from 'node:stream';
import {stringify} from 'csv-stringify/sync';
import {DatasetError} from '../../errors.js';
import {outputError} from '../../fs/output-error.js';
import {OutputFile} from '../../fs/output-file.js';
import {type PendingOutput, settle, trackOutput} from '../../fs/pending-outputs.js';
import {type Doc, idValue, labelValue} from '../doc.js';
import {
  type DataFormat,
  type DocSep,
  type FieldNames,
  resolveFields,
  resolveFormat,
  WEIGHT_FIELD,
} from './format.js';
import {unchangedRawLine} from './raw-lines.js';

export interface WriteDocsOptions extends FieldNames {
  /**
   * A file path (written to a temp name, renamed on `close`; a FIFO or device is written in place),
   * `-` or a writable such as `process.stdout`.
   */
  output: string | Writable;
  /** Row format; default from the file extension, JSONL for a stream. */
  format?: DataFormat | string;
  /** Plain text only: one document per line (default; line breaks in a text become spaces), or blank-line separated. */
  docSep?: DocSep;
  /** Paths this output must not overwrite (the inputs of the step). */
  inputs?: readonly string[];
  /** CSV/TSV: columns to add to those of the first row, for fields later rows add (`augmented`). */
  columns?: readonly string[];
}

/** Bytes buffered into one write: large enough to keep write calls cheap, small for memory. */
const FLUSH_BYTES = 1 << 18;
/**
 * The buffer rows are encoded into, as they come (one UTF-8 pass per row; a string of rows joined
 * and then encoded at each flush took twice the CPU): room for a flush's worth and a row past it.
 */
const BUFFER_BYTES = 1 << 19;

/**
 * Writes documents one at a time, back to the format they came from: id, text, label, the other
 * fields in order, and `weight` when set. Waits for the destination to drain (backpressure), so
 * memory stays bounded. A file output appears only on `close()`; `abort()` leaves nothing behind.
 */
export class DocWriter {
  rows = 0;
  private buffer = Buffer.allocUnsafe(BUFFER_BYTES);
  private used = 0;
  /** A stream sink: the reader went away (EPIPE), or the error it failed with. */
  private sinkGone = false;
  private sinkError: unknown;
  private readonly sinkEntry: PendingOutput | undefined;
  private readonly onSinkError = (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') this.sinkGone = true;
    else this.sinkError ??= outputError(this.where(), error);
  };
  private header: string[] | undefined;
  private readonly names: Required<FieldNames>;
  /** The id, text, label and weight field names as JSON keys, quoted once. */
  private readonly keys: {id: string; text: string; label: string; weight: string};
  private readonly sink: Writable;

  private constructor(
    private readonly options: WriteDocsOptions,
    readonly format: DataFormat,
    private readonly file: OutputFile | undefined,
  ) {
    this.names = resolveFields(options);
    this.keys = {
      id: JSON.stringify(this.names.idField),
      text: JSON.stringify(this.names.textField),
      label: JSON.stringify(this.names.labelField),
      weight: JSON.stringify(WEIGHT_FIELD),
    };
    this.sink = file?.stream ?? stream(options.output);
    if (!file) {
      const name = this.where();
      this.sinkEntry = trackOutput({path: name});
      this.sink.on('error', this.onSinkError);
    }
  }

  static async open(options: WriteDocsOptions): Promise<DocWriter> {
    const {output} = options;
    const path = typeof output === 'string' && output !== '-' ? output : undefined;
    const format = resolveFormat(path, options.format);
    const file = path !== undefined ? await OutputFile.open(path, options.inputs) : undefined;
    return new DocWriter(options, format, file);
  }

  /** True once the reader of a stream output has gone (EPIPE: `… | head`); writes are dropped. */
  get closed(): boolean {
    return this.file ? this.file.readerGone : this.sinkGone;
  }

  /**
   * Appends one document; `extra` fields go last (a rejected row's `drop_reason`). Returns a
   * promise only when the buffer was handed to the destination and it asked to wait (backpressure):
   * `const wait = writer.write(doc); if (wait) await wait;` — no promise per row.
   */
  write(doc: Doc, extra?: Record<string, unknown>): Promise<void> | undefined {
    this.rows++;
    const row = this.serialize(doc, extra);
    // A UTF-16 unit takes at most 3 bytes of UTF-8.
    if (this.used + 3 * row.length > this.buffer.length) {
      // A row longer than the buffer goes to the destination as it is, after the rows before it.
      if (3 * row.length > BUFFER_BYTES) return this.flush(row);
      const wait = this.flush();
      this.used = this.buffer.write(row, 0);
      return wait;
    }
    this.used += this.buffer.write(row, this.used);
    return this.used >= FLUSH_BYTES ? this.flush() : undefined;
  }

  /** Flushes and, for a file, renames it into place. */
  async close(): Promise<void> {
    await this.flush();
    if (this.file) await this.file.commit();
    else {
      this.check();
      this.sink.off('error', this.onSinkError);
      settle(this.sinkEntry!, 'written');
    }
  }

  /** Stops without leaving a partial file. */
  async abort(): Promise<void> {
    this.used = 0;
    if (this.file) await this.file.abort();
    else {
      this.sink.off('error', this.onSinkError);
      settle(this.sinkEntry!, 'abandoned');
    }
  }

  /** Throws the error the destination failed with (a full disk names the file or stdout). */
  private check(): void {
    this.file?.check();
    if (this.sinkError !== undefined) throw this.sinkError;
  }

  /**
   * Hands the encoded rows, then `row` (one too long for the buffer), to the destination, and waits
   * when it asks to. The buffer goes with the write: the next rows get a new one.
   */
  private async flush(row?: string): Promise<void> {
    const chunk = this.buffer.subarray(0, this.used);
    if (this.used > 0) this.buffer = Buffer.allocUnsafe(BUFFER_BYTES);
    this.used = 0;
    this.check();
    if (this.closed) return;
    let ready = chunk.length === 0 || this.sink.write(chunk);
    if (row !== undefined) ready = this.sink.write(row) && ready;
    if (!ready) {
      await new Promise<void>((ok) => {
        const done = () => {
          this.sink.off('drain', done);
          this.sink.off('error', done);
          this.sink.off('close', done);
          ok();
        };
        this.sink.on('drain', done);
        this.sink.on('error', done);
        this.sink.on('close', done);
      });
      this.check();
    }
  }

  private serialize(doc: Doc, extra?: Record<string, unknown>): string {
    if (this.format === 'txt') {
      const text =
        this.options.docSep === 'blank'
          ? doc.text.replace(/\n\s*\n/g, '\n').trim()
          : doc.text.replace(/\r?\n/g, ' ');
      return this.options.docSep === 'blank' ? `${text}\n\n` : `${text}\n`;
    }
    if (this.format === 'jsonl') {
      const line = extra ? undefined : unchangedRawLine(doc, this.names);
      return line === undefined ? this.jsonLine(doc, extra) : `${line}\n`;
    }
    return this.csvLine(this.toRow(doc, extra), doc.id);
  }

  /** The row as one JSON line, built without an intermediate object: id, text, label, fields, weight, extra. */
  private jsonLine(doc: Doc, extra?: Record<string, unknown>): string {
    const {keys, names} = this;
    let line = `{${keys.id}:${JSON.stringify(idValue(doc))},${keys.text}:${JSON.stringify(doc.text)}`;
    const label = labelValue(doc);
    if (label !== undefined) line += `,${keys.label}:${JSON.stringify(label)}`;
    const {fields} = doc;
    for (const key in fields) {
      if (key === names.idField || key === names.textField || key === names.labelField) continue;
      if (doc.weight !== undefined && key === WEIGHT_FIELD) continue;
      const value = JSON.stringify(fields[key]);
      if (value !== undefined) line += `,${JSON.stringify(key)}:${value}`;
    }
    if (doc.weight !== undefined) line += `,${keys.weight}:${JSON.stringify(doc.weight)}`;
    if (extra) {
      for (const key in extra) {
        const value = JSON.stringify(extra[key]);
        if (value !== undefined) line += `,${JSON.stringify(key)}:${value}`;
      }
    }
    return `${line}}\n`;
  }

  private toRow(doc: Doc, extra?: Record<string, unknown>): Record<string, unknown> {
    const {idField, textField, labelField} = this.names;
    const row: Record<string, unknown> = {[idField]: idValue(doc), [textField]: doc.text};
    const label = labelValue(doc);
    if (label !== undefined) row[labelField] = label;
    Object.assign(row, doc.fields);
    if (doc.weight !== undefined) row[WEIGHT_FIELD] = doc.weight;
    if (extra) Object.assign(row, extra);
    return row;
  }

  private csvLine(row: Record<string, unknown>, id: string): string {
    const delimiter = this.format === 'tsv' ? '\t' : ',';
    let head = '';
    if (!this.header) {
      this.header = [...new Set([...Object.keys(row), ...(this.options.columns ?? [])])];
      head = stringify([this.header], {delimiter});
    }
    for (const key in row) {
      if (!this.header.includes(key)) {
        throw new DatasetError(
          `${this.where()}: row ${id} has a field "${key}" that the first row did not have, so the ${this.format.toUpperCase()} header lacks it`,
          'write JSONL (--out-format jsonl), where rows may differ in their fields',
        );
      }
    }
    return head + stringify([this.header.map((key) => cell(row[key]))], {delimiter});
  }

  private where(): string {
    const {output} = this.options;
    if (typeof output === 'string') return output === '-' ? 'stdout' : output;
    return output === process.stdout ? 'stdout' : 'output';
  }
}

function stream(output: string | Writable): Writable {
  return typeof output === 'string' ? process.stdout : output;
}

function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Writes all of `docs` and closes the output; on any error the named output is not created. */
export async function writeDocs(
  docs: AsyncIterable<Doc> | Iterable<Doc>,
  options: WriteDocsOptions,
): Promise<{rows: number}> {
  const writer = await DocWriter.open(options);
  try {
    for await (const doc of docs) {
      if (writer.closed) break;
      const wait = writer.write(doc);
      if (wait) await wait;
    }
    await writer.close();
  } catch (error) {
    await writer.abort();
    throw error;
  }
  return {rows: writer.rows};
}
