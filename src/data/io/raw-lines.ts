import type {Doc} from '../doc.js';
import type {FieldNames} from './format.js';

/**
 * The input line of each JSONL row read, kept so a writer can copy a row that went through a step
 * unchanged instead of serializing it again: the row leaves as it came in (its key order, spacing
 * and number formatting), and JSON.stringify of the text, a sixth of `clean`'s time, is saved. The
 * line goes with the row object. A step that changes a row makes a new Doc (or new text/fields),
 * which the snapshot check below catches.
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

// A plain Map with strong keys rather than a WeakMap (whose ephemeron tables cost the garbage
// collector more than the copy saves) or a property on the row (which the row's users would see).
// Writers take their entry out and the runner drops the entries of rows a step drops; past
// MAX_ROWS the oldest entries go (a reader whose rows are never written, such as training, keeps
// no more than that). A row that lost its entry is serialized, with the same values.
const MAX_ROWS = 1 << 17;
const raw = new Map<Doc, RawRow>();

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
  if (raw.size >= MAX_ROWS) raw.delete(raw.keys().next().value as Doc);
  raw.set(doc, {
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

/** Forgets the input line of a row that will not be written (a dropped row). */
export function forgetRawLine(doc: Doc): void {
  raw.delete(doc);
}

/** The input line of `doc` if the row is unchanged and written with the same field names. */
export function unchangedRawLine(doc: Doc, names: Required<FieldNames>): string | undefined {
  const r = raw.get(doc);
  if (r) raw.delete(doc);
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
