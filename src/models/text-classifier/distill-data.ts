import * as tf from '@tensorflow/tfjs';
import {type OnError, readDocs} from '../../data/io/read-docs.js';
import {DatasetError} from '../../errors.js';
import type {Tokenizer} from '../../tokenizer/tokenizer.js';
import {arrayBatchSource, type BatchSource} from '../../train/batch-source.js';
import {holdout, type LabeledRow} from '../classify/labeled-data.js';
import {encodeTexts} from './classifier.js';

/** A distillation example: a text, and a label when the data has one (transfer rows need none). */
export interface DistillRow {
  text: string;
  label?: string;
  weight: number;
}

/**
 * Every row of a distillation file (sample weights from its `weight` field). Rows without a label are transfer rows (taught by the teacher
 * alone); a label the teacher does not know is a DatasetError naming the row.
 */
export async function readDistillRows(
  file: string,
  teacherLabels: readonly string[],
  fields: {
    textField?: string;
    labelField?: string;
    onError?: OnError;
    onSkip?: (e: DatasetError) => void;
  } = {},
): Promise<DistillRow[]> {
  const known = new Set(teacherLabels);
  const rows: DistillRow[] = [];
  for await (const doc of readDocs({input: file, ...fields})) {
    if (doc.label !== undefined && doc.label !== '' && !known.has(doc.label)) {
      throw new DatasetError(
        `${file} row ${rows.length + 1} (id ${doc.id}): label "${doc.label}" is not one of the teacher's`,
        `the teacher knows only: ${teacherLabels.join(', ')} — drop the row or its label`,
      );
    }
    rows.push({text: doc.text, label: doc.label || undefined, weight: doc.weight ?? 1});
  }
  if (rows.length === 0) throw new DatasetError(`${file}: no rows`, 'the dataset is empty');
  return rows;
}

/** The deterministic 10% holdout of the labelled rows (as `train` makes); transfer rows all train. */
export function holdoutLabelled(rows: readonly DistillRow[]): {train: DistillRow[]; val: LabeledRow[]} {
  const labelled = rows.filter((r): r is LabeledRow => r.label !== undefined);
  const {val} = holdout(labelled);
  const held = new Set(val);
  return {train: rows.filter((r) => !held.has(r as LabeledRow)), val};
}

/** Distillation rows encoded for the student and for the teacher (ids row-major [n × maxLen]). */
export interface EncodedDistill {
  n: number;
  studentIds: Int32Array;
  studentMaxLen: number;
  teacherIds: Int32Array;
  /** Class ids, 0 where unlabelled. */
  labels: Int32Array;
  /** 1 where labelled. */
  labelMask: Float32Array;
  weights: Float32Array;
}

export async function encodeDistillRows(
  rows: readonly DistillRow[],
  labels: readonly string[],
  student: {tokenizer: Tokenizer; maxLen: number},
  teacher: {tokenizer: Tokenizer; maxLen: number},
): Promise<EncodedDistill> {
  const texts = rows.map((r) => r.text);
  const index = new Map(labels.map((l, i) => [l, i]));
  const studentIds = await encodeTexts(student.tokenizer, texts, student.maxLen);
  const same = student.tokenizer === teacher.tokenizer && student.maxLen === teacher.maxLen;
  return {
    n: rows.length,
    studentIds,
    studentMaxLen: student.maxLen,
    teacherIds: same ? studentIds : await encodeTexts(teacher.tokenizer, texts, teacher.maxLen),
    labels: Int32Array.from(rows, (r) => (r.label === undefined ? 0 : index.get(r.label)!)),
    labelMask: Float32Array.from(rows, (r) => (r.label === undefined ? 0 : 1)),
    weights: Float32Array.from(rows, (r) => r.weight),
  };
}

/**
 * Distillation batches: inputs [student ids [b, maxLen] int32, teacher logits [b, k], label mask [b]],
 * targets class ids [b], weights [b]. `teacher(rows)` gives the logits of those rows (computed on the
 * fly or gathered from the cache).
 */
export function distillBatchSource(
  data: EncodedDistill,
  teacher: (rows: number[]) => tf.Tensor2D,
  batchSize: number,
  seed: number,
): BatchSource {
  const maxLen = data.studentMaxLen;
  const rows = Array.from({length: data.n}, (_, i) => i);
  return arrayBatchSource(rows, {
    batchSize,
    seed,
    collate: (picked) => {
      const ids = new Int32Array(picked.length * maxLen);
      for (const [j, row] of picked.entries()) {
        ids.set(data.studentIds.subarray(row * maxLen, (row + 1) * maxLen), j * maxLen);
      }
      let tokens = 0;
      for (const id of ids) if (id !== 0) tokens++;
      return {
        inputs: [
          tf.tensor2d(ids, [picked.length, maxLen], 'int32'),
          teacher(picked),
          tf.tensor1d(Float32Array.from(picked, (r) => data.labelMask[r]!)),
        ],
        targets: tf.tensor1d(
          Int32Array.from(picked, (r) => data.labels[r]!),
          'int32',
        ),
        weights: tf.tensor1d(Float32Array.from(picked, (r) => data.weights[r]!)),
        tokens,
      };
    },
  });
}

/** Gathers rows of a cached [n × k] logit array as a tensor [rows.length, k]. */
export function gatherLogits(logits: Float32Array, k: number): (rows: number[]) => tf.Tensor2D {
  return (rows) => {
    const out = new Float32Array(rows.length * k);
    for (const [j, row] of rows.entries()) out.set(logits.subarray(row * k, (row + 1) * k), j * k);
    return tf.tensor2d(out, [rows.length, k]);
  };
}
