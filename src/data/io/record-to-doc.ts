import {DatasetError, printable} from '../../errors.js';
import type {Doc} from '../doc.js';
import {type FieldNames, WEIGHT_FIELD} from './format.js';

/** Where a row came from: the name in messages (`data/train.csv`), the id prefix, the line. */
export interface RowOrigin {
  source: string;
  idPrefix: string;
  line: number;
}

/**
 * Turns one parsed row (a JSON object, or a CSV record keyed by header) into a `Doc`: text, label
 * and id from the named fields, a numeric `weight` field into `Doc.weight`, everything else kept
 * in `fields` in its original order. An id is made from the source and line when the row has none.
 */
export function recordToDoc(
  record: Record<string, unknown>,
  names: Required<FieldNames>,
  at: RowOrigin,
): Doc {
  const {textField, labelField, idField} = names;
  const text = record[textField];
  if (typeof text !== 'string') {
    if (text === undefined) {
      throw new DatasetError(
        `${at.source} line ${at.line}: no "${textField}" field (fields: ${printable(Object.keys(record).join(', ')) || 'none'})`,
        'name the text field with --text-field',
      );
    }
    throw new DatasetError(
      `${at.source} line ${at.line}: "${textField}" is ${text === null ? 'null' : `a ${typeof text}`}, expected a string`,
      'every row needs its text as a string',
    );
  }
  const doc: Doc = {id: '', text, fields: {}};
  const id = record[idField];
  if (id === undefined || id === null || id === '') doc.id = `${at.idPrefix}:${at.line}`;
  else if (typeof id === 'object') {
    throw new DatasetError(
      `${at.source} line ${at.line}: "${idField}" is an ${Array.isArray(id) ? 'array' : 'object'}, expected a string or number`,
      'give each row one id, or name another field with --id-field',
    );
  } else {
    doc.id = String(id);
    if (typeof id === 'number' || typeof id === 'boolean') doc.typed = {id};
  }
  const label = record[labelField];
  if (label !== undefined && typeof label === 'object' && label !== null) {
    throw new DatasetError(
      `${at.source} line ${at.line}: "${labelField}" is an ${Array.isArray(label) ? 'array' : 'object'}, expected one class name`,
      'multi-label rows are not supported; give one label per row',
    );
  }
  if (label !== undefined && label !== null && label !== '') doc.label = String(label);
  if (label === null || label === '' || typeof label === 'number' || typeof label === 'boolean') {
    doc.typed = {...doc.typed, label};
  }
  for (const key in record) {
    if (key === textField || key === labelField || key === idField) continue;
    const value = record[key];
    if (key === WEIGHT_FIELD && value !== '' && value !== null && value !== undefined) {
      // A number, or a number written as a string (CSV); Number() of an object could throw.
      const weight = typeof value === 'number' || typeof value === 'string' ? Number(value) : Number.NaN;
      if (!Number.isFinite(weight) || weight < 0) {
        throw new DatasetError(
          `${at.source} line ${at.line}: "${WEIGHT_FIELD}" is ${printable(JSON.stringify(value) ?? String(value), 80)}, expected a number >= 0`,
          'the weight field holds sample weights; rename the column if it means something else',
        );
      }
      doc.weight = weight;
      continue;
    }
    doc.fields[key] = value;
  }
  return doc;
}
