import type {Doc} from '../doc.js';
import type {FieldNames} from './format.js';

/**
 * The input line of each JSONL row read, kept so a writer can copy a row that went through a step
 * unchanged instead of serializing it again (JSON.stringify of the text is a sixth of `clean`'s
 * time). The line goes with the row object. A step that changes a row makes
 * a new Doc (or new text/fields), which the snapshot check below catches.
 */
interface RawRow {
  line: string;
  id: string;
  text: string;
  label: string | undefined;
  fields: Doc['fields'];
  names: Required<FieldNames>;
}

// A plain Map with strong keys, emptied when it grows past MAX_ROWS, rather than a WeakMap (whose
// ephemeron tables cost the garbage collector more than the copy saves) or a property on the row
// (which the row's users would see). Writers take their entry out; rows a step drops stay until the
// next clearing, so memory is bounded by MAX_ROWS lines. A row that lost its entry is serialized.
const MAX_ROWS = 4096;
const raw = new Map<Doc, RawRow>();

/**
 * Remembers `line` for `doc` when copying it would write exactly what serializing it writes: the row
 * had its own id and a string label (no made id, no number turned into a string) and no weight field.
 */
export function rememberRawLine(
  doc: Doc,
  line: string,
  record: Record<string, unknown>,
  names: Required<FieldNames>,
): void {
  if (typeof record[names.idField] !== 'string' || doc.weight !== undefined) return;
  const label = record[names.labelField];
  if (label !== undefined && typeof label !== 'string') return;
  if (label === '' || line.endsWith('\r')) return;
  if (raw.size >= MAX_ROWS) raw.clear();
  raw.set(doc, {line, id: doc.id, text: doc.text, label: doc.label, fields: doc.fields, names});
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
    r.fields !== doc.fields ||
    doc.weight !== undefined ||
    r.names.idField !== names.idField ||
    r.names.textField !== names.textField ||
    r.names.labelField !== names.labelField
  ) {
    return undefined;
  }
  return r.line;
}
