import type {Doc} from '../../data/doc.js';
import {WEIGHT_FIELD} from '../../data/io/format.js';
import {type OnError, readDocs} from '../../data/io/read-docs.js';
import {hash32} from '../../data/rng.js';
import {DatasetError} from '../../errors.js';
import {balancedClassWeights} from '../../train/losses.js';

/** A training example: text, class name, weight (1 unless the data's `weight` field says otherwise). */
export interface LabeledRow {
  text: string;
  label: string;
  weight: number;
}

export interface ReadLabeledOptions {
  textField?: string;
  labelField?: string;
  /** Field of sample weights (≥ 0); rows without it weigh 1. Default `weight`. */
  weightField?: string;
  /** A malformed row: `fail` (default) throws its DatasetError; `skip` tells `onSkip` and leaves it out. */
  onError?: OnError;
  onSkip?: (error: DatasetError) => void;
}

/**
 * Every row of a labeled file; a row without text or label is a DatasetError naming the file,
 * the row and the field, and an empty file is one too.
 */
export async function readLabeledRows(file: string, options: ReadLabeledOptions = {}): Promise<LabeledRow[]> {
  const labelField = options.labelField ?? 'label';
  const weightField = options.weightField ?? WEIGHT_FIELD;
  const rows: LabeledRow[] = [];
  const {onError, onSkip} = options;
  for await (const doc of readDocs({
    input: file,
    textField: options.textField,
    labelField,
    onError,
    onSkip,
  })) {
    try {
      if (doc.label === undefined) {
        throw new DatasetError(
          `${file} row ${rows.length + 1} (id ${doc.id}): no "${labelField}" field`,
          'every training row needs a label; name its field with --label-field',
        );
      }
      rows.push({
        text: doc.text,
        label: doc.label,
        weight: rowWeight(doc, weightField, file, rows.length + 1),
      });
    } catch (error) {
      if (!(error instanceof DatasetError) || onError !== 'skip') throw error;
      onSkip?.(error);
    }
  }
  if (rows.length === 0) throw new DatasetError(`${file}: no rows`, 'the dataset is empty');
  return rows;
}

/** A row's sample weight: the data module's `weight`, or the named field (a number ≥ 0); 1 without one. */
function rowWeight(doc: Doc, field: string, file: string, row: number): number {
  if (field === WEIGHT_FIELD) return doc.weight ?? 1;
  const raw = doc.fields[field];
  if (raw === undefined || raw === null || raw === '') return 1;
  const weight = Number(raw);
  if (!Number.isFinite(weight) || weight < 0) {
    throw new DatasetError(
      `${file} row ${row} (id ${doc.id}): "${field}" is ${JSON.stringify(raw)}, expected a number ≥ 0`,
      'the weight field holds sample weights; name another with --weight-field',
    );
  }
  return weight;
}

/**
 * Per-row weights times the class weight of each row's class: `balanced` gives class c the weight
 * n / (k · count_c) over these rows (`balancedClassWeights`), so every class weighs the same in the
 * loss; `none` returns the weights as they are.
 */
export function withClassWeights(
  classes: Int32Array,
  weights: Float32Array,
  numClasses: number,
  mode: 'none' | 'balanced' = 'none',
): Float32Array {
  if (mode === 'none') return weights;
  const perClass = balancedClassWeights(Array.from(classes), numClasses);
  return Float32Array.from(weights, (w, i) => w * perClass[classes[i]!]!);
}

/** Sorted distinct labels; fewer than two is a DatasetError (nothing to classify). */
export function labelSet(rows: readonly LabeledRow[], file: string): string[] {
  const labels = [...new Set(rows.map((r) => r.label))].sort();
  if (labels.length < 2) {
    throw new DatasetError(
      `${file}: every row has the label "${labels[0]}" — a classifier needs at least two classes`,
      'check --label-field, or add examples of the other classes',
    );
  }
  return labels;
}

/**
 * A deterministic holdout: the rows whose text hashes into the last `fraction` (default 10%) go to
 * validation, so identical texts land on the same side and the split does not depend on row order.
 * Validation rows of a class that would be missing from training stay in training.
 */
export function holdout(
  rows: readonly LabeledRow[],
  fraction = 0.1,
): {train: LabeledRow[]; val: LabeledRow[]} {
  const buckets = 10_000;
  const train: LabeledRow[] = [];
  let val: LabeledRow[] = [];
  for (const row of rows) {
    ((hash32(row.text, 0x5eed) % buckets) / buckets < fraction ? val : train).push(row);
  }
  const seen = new Set(train.map((r) => r.label));
  train.push(...val.filter((r) => !seen.has(r.label)));
  val = val.filter((r) => seen.has(r.label));
  return {train, val};
}

/** Throws a DatasetError naming the first row of `rows` whose label is not in `labels`. */
export function checkKnownLabels(rows: readonly LabeledRow[], labels: readonly string[], file: string): void {
  const known = new Set(labels);
  const i = rows.findIndex((r) => !known.has(r.label));
  if (i >= 0) {
    throw new DatasetError(
      `${file} row ${i + 1}: label "${rows[i]!.label}" never occurs in the training data`,
      `the model knows only: ${labels.join(', ')}`,
    );
  }
}
