import {type CsvError, parse} from 'csv-parse/sync';
import {DatasetError, printable} from '../../errors.js';
import type {Doc} from '../doc.js';
import type {FieldNames} from './format.js';
import type {Line} from './lines.js';
import {recordToDoc} from './record-to-doc.js';

/** A quoted field still open after this many characters is taken for a stray quote. */
export const MAX_RECORD_CHARS = 64 * 1024 * 1024;
const QUOTE = 34;

export interface CsvDocsOptions {
  format: 'csv' | 'tsv';
  source: string;
  idPrefix: string;
  names: Required<FieldNames>;
  /** Throws (fail) or counts (skip) a malformed row. */
  fail: (error: DatasetError) => void;
}

/**
 * The rows of a CSV or TSV file from its lines. Lines are gathered into records by following the
 * quotes (a quoted field may hold line breaks), then parsed by csv-parse a chunk at a time. A stray
 * quote is found where it is and costs only its own line: a record that stays open to the end of
 * the input (or past `MAX_RECORD_CHARS`), or that does not parse, is reported at its first line,
 * and the lines after that one are read again as rows of their own. So `--on-error skip` skips
 * exactly the broken lines and keeps every good row after them.
 */
export async function* csvDocs(lines: AsyncIterable<Line[]>, options: CsvDocsOptions): AsyncGenerator<Doc[]> {
  const reader = new CsvRecords(options);
  for await (const batch of lines) {
    const docs = reader.push(batch, false);
    if (docs.length > 0) yield docs;
  }
  const docs = reader.push([], true);
  if (docs.length > 0) yield docs;
}

class CsvRecords {
  private header: string[] | undefined;
  /** Lines of the record being gathered, and whether it ends inside a quoted field so far. */
  private open: Line[] = [];
  private openChars = 0;
  private quoted = false;
  private readonly delimiter: number;
  private readonly parseOptions: {delimiter: string; relax_quotes: boolean; record_delimiter: string};

  constructor(private readonly o: CsvDocsOptions) {
    const delimiter = o.format === 'tsv' ? '\t' : ',';
    this.delimiter = delimiter.charCodeAt(0);
    // TSV files in the wild carry bare quotes inside fields ("great" movie); CSV stays strict.
    this.parseOptions = {delimiter, relax_quotes: o.format === 'tsv', record_delimiter: '\n'};
  }

  /** The rows that `lines` complete; `end` flushes a record left open at the end of the input. */
  push(lines: Line[], end: boolean): Doc[] {
    const docs: Doc[] = [];
    let queue = lines;
    for (;;) {
      const records = this.gather(queue, end);
      const again = this.parseRecords(records, docs);
      if (again.length === 0) return docs;
      // Lines to read again: those after a broken line, then whatever was still open.
      queue = [...again, ...this.open];
      this.reset();
    }
  }

  private reset(): void {
    this.open = [];
    this.openChars = 0;
    this.quoted = false;
  }

  /** Complete records from `queue` (and the open one); a stray quote is reported and read past. */
  private gather(queue: Line[], end: boolean): Line[][] {
    const records: Line[][] = [];
    const pending = [...queue].reverse(); // a stack: lines to read again go on top
    for (;;) {
      const line = pending.pop();
      if (line === undefined) {
        if (!end || this.open.length === 0) return records;
        this.strayQuote(pending); // open at the end of the input
        continue;
      }
      if (this.open.length === 0 && line.text === '') continue;
      this.open.push(line);
      this.openChars += line.text.length + 1;
      this.quoted = endsQuoted(line.text, this.delimiter, this.parseOptions.relax_quotes, this.quoted);
      if (!this.quoted) {
        records.push(this.open);
        this.reset();
      } else if (this.openChars > MAX_RECORD_CHARS) this.strayQuote(pending);
    }
  }

  /** The open record's quote never closes: its first line is the broken one; the rest is read again. */
  private strayQuote(pending: Line[]): void {
    const [first, ...rest] = this.open;
    this.reset();
    this.o.fail(
      new DatasetError(
        `${this.o.source} line ${first.line}: a quoted field is never closed`,
        'add the missing closing quote, or double a quote that is part of the text ("say ""hi""")',
      ),
    );
    for (let k = rest.length - 1; k >= 0; k--) pending.push(rest[k]);
  }

  /** Parses complete records into docs; returns the lines to read again after a broken record. */
  private parseRecords(records: Line[][], docs: Doc[]): Line[] {
    if (records.length === 0) return [];
    if (this.header === undefined) {
      this.header = this.parseHeader(records.shift()!);
      if (records.length === 0) return [];
    }
    const options = {...this.parseOptions, columns: this.header};
    try {
      const rows = parse(records.map(joinLines).join('\n'), options) as Record<string, string>[];
      if (rows.length === records.length) {
        for (let k = 0; k < rows.length; k++) this.toDoc(rows[k], records[k], docs);
        return [];
      }
    } catch {
      // Some record is malformed: parse them one at a time to find it.
    }
    for (let k = 0; k < records.length; k++) {
      const record = records[k];
      let rows: Record<string, string>[];
      try {
        rows = parse(joinLines(record), options) as Record<string, string>[];
        if (rows.length !== 1) throw new Error(`one record parsed as ${rows.length}`);
      } catch (error) {
        this.o.fail(csvError(error as CsvError, this.o.source, record[0].line, this.o.format));
        if (record.length > 1) return [...record.slice(1), ...records.slice(k + 1).flat()];
        continue;
      }
      this.toDoc(rows[0], record, docs);
    }
    return [];
  }

  private parseHeader(record: Line[]): string[] {
    const {source, names, format} = this.o;
    let header: string[];
    try {
      [header] = parse(joinLines(record), this.parseOptions) as string[][];
    } catch (error) {
      throw csvError(error as CsvError, source, record[0].line, format);
    }
    if (!header.includes(names.textField)) {
      const tabs = format === 'csv' && header.length === 1 && header[0]!.includes('\t');
      throw new DatasetError(
        `${source} line ${record[0].line}: no "${names.textField}" column (columns: ${printable(header.join(', '))})`,
        `name the text column with --text-field${tabs ? ', or use --format tsv: this header has tabs' : ''}`,
      );
    }
    return header;
  }

  private toDoc(row: Record<string, string>, record: Line[], docs: Doc[]): void {
    const {source, idPrefix, names, fail} = this.o;
    try {
      // The made id names the record's last line, as ids of CSV rows always have.
      docs.push(recordToDoc(row, names, {source, idPrefix, line: record.at(-1)!.line}));
    } catch (error) {
      if (!(error instanceof DatasetError)) throw error;
      fail(error);
    }
  }
}

function joinLines(record: Line[]): string {
  return record.length === 1 ? record[0].text : record.map((l) => l.text).join('\n');
}

/**
 * Whether a CSV line ends inside a quoted field, given whether it began inside one: the quote rules
 * of csv-parse (a quote opens a field only at its start; `""` is a quote inside it; a quote followed
 * by a delimiter or the line end closes it; any other closing quote is an error — or, relaxed, just
 * closes it).
 */
export function endsQuoted(text: string, delimiter: number, relaxed: boolean, quoted: boolean): boolean {
  if (!quoted && text.indexOf('"') === -1) return false;
  let atStart = !quoted;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (quoted) {
      if (c !== QUOTE) continue;
      const next = text.charCodeAt(i + 1);
      if (next === QUOTE) i++;
      else if (i + 1 === text.length || next === delimiter) quoted = false;
      else if (relaxed) quoted = false;
      else return false; // an invalid closing quote: the record ends here, and the parser says so
    } else if (c === delimiter) atStart = true;
    else {
      if (c === QUOTE && atStart) quoted = true;
      atStart = false;
    }
  }
  return quoted;
}

/** A csv-parse error as a message that names the line and says how to fix the file. */
function csvError(error: CsvError, source: string, line: number, format: 'csv' | 'tsv'): DatasetError {
  const where = `${source} line ${line}`;
  const sep = format === 'tsv' ? 'tabs' : 'commas';
  switch (error.code) {
    case 'CSV_RECORD_INCONSISTENT_COLUMNS': {
      const got = Array.isArray(error.record) ? error.record.length : '?';
      const want = Array.isArray(error.columns) ? error.columns.length : '?';
      return new DatasetError(
        `${where}: expected ${want} columns, got ${got}`,
        `quote fields that contain ${sep}`,
      );
    }
    case 'CSV_INVALID_CLOSING_QUOTE':
      return new DatasetError(
        `${where}: a quote inside a field`,
        'quote the whole field and double the quotes inside it ("say ""hi""")',
      );
    case 'INVALID_OPENING_QUOTE':
      return new DatasetError(
        `${where}: a quote in the middle of an unquoted field`,
        'quote the whole field and double the quotes inside it ("say ""hi""")',
      );
    case 'CSV_QUOTE_NOT_CLOSED':
      return new DatasetError(`${where}: a quoted field is never closed`, 'add the missing closing quote');
    default:
      return new DatasetError(
        `${where}: ${printable(error.message)}`,
        `check the ${format.toUpperCase()} syntax`,
      );
  }
}
