import type {Doc} from '../doc.js';
import type {FieldNames} from './format.js';

/**
 * The input line of each JSONL row read, kept so a writer can copy a row that went through a step
 * unchanged instead of serializing it again: the row leaves as it came in (its key order, spacing
 * and number formatting), and JSON.stringify of the text, a sixth of `clean`'s time, is saved. A
 * step that changes a row makes a new Doc (or new text/fields), which the snapshot check below
 * catches.
 */
interface RawRow {
  line: string;
  id: string;
  text: string;
  label: string | undefined;
  typed: Doc['typed'];
  weight: number | undefined;
  fields: Doc['fields'];
  names: Required<FieldNames>;
}

// The line goes with the row object itself, in a private field that the class below adds to it:
// invisible to the row's users (keys, spread, JSON, equality in tests), and gone with the row. Kept
// in a Map keyed by the row instead, every row reached the old generation (`--trace-gc-nvp`: 99 MB
// promoted reading the 64 MB bench corpus, 5 MB without), and reading cost twice as much; a WeakMap's
// ephemeron sweeps cost about as much as the copy saves.
class Base {
  constructor(row: Doc) {
    // biome-ignore lint/correctness/noConstructorReturn: the subclass adds its private field to `row`
    return row;
  }
}
class RawLine extends Base {
  readonly #raw: RawRow;
  private constructor(row: Doc, raw: RawRow) {
    super(row);
    this.#raw = raw;
  }
  static add(row: Doc, raw: RawRow): void {
    new RawLine(row, raw);
  }
  static of(row: Doc): RawRow | undefined {
    return #raw in row ? (row as unknown as RawLine).#raw : undefined;
  }
}

/**
 * Remembers `line` for `doc` when copying it writes what serializing it would: the row had its
 * own id (a made id is added on output) and no line ending of its own.
 */
export function rememberRawLine(
  doc: Doc,
  line: string,
  record: Record<string, unknown>,
  names: Required<FieldNames>,
): void {
  const id = record[names.idField];
  if (id === undefined || id === null || id === '' || line.endsWith('\r')) return;
  RawLine.add(doc, {
    line,
    id: doc.id,
    text: doc.text,
    label: doc.label,
    typed: doc.typed,
    weight: doc.weight,
    fields: doc.fields,
    names,
  });
}

/** The input line of `doc` if the row is unchanged and written with the same field names. */
export function unchangedRawLine(doc: Doc, names: Required<FieldNames>): string | undefined {
  const r = RawLine.of(doc);
  if (
    !r ||
    r.id !== doc.id ||
    r.text !== doc.text ||
    r.label !== doc.label ||
    r.typed !== doc.typed ||
    r.weight !== doc.weight ||
    r.fields !== doc.fields ||
    r.names.idField !== names.idField ||
    r.names.textField !== names.textField ||
    r.names.labelField !== names.labelField
  ) {
    return undefined;
  }
  return r.line;
}
