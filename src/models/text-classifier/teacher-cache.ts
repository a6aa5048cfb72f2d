import {createHash} from 'node:crypto';
import {readdir, readFile} from 'node:fs/promises';
import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {RUN_FILES, writeFileAtomic} from '../../run/run-folder.js';
import type {ClassifierRun} from './classifier-run.js';

/** Files of the teacher-logit cache in a distill run folder. */
export const TEACHER_CACHE_FILES = {logits: 'teacher-logits.f32', manifest: 'teacher-logits.json'} as const;

/** What `teacher-logits.json` records: the cache is valid only for this key and shape. */
export interface TeacherCacheManifest {
  /** sha256 of the teacher's weights and labels and of the data as the teacher reads it (token ids). */
  key: string;
  rows: number;
  classes: number;
  dtype: 'float32';
  teacher: string;
}

/** The teacher's logits [rows.length, k] for rows of `ids` (rows of `maxLen` token ids). */
export function teacherLogits(teacher: ClassifierRun, ids: Int32Array, rows: readonly number[]): tf.Tensor2D {
  const {maxLen} = teacher.config;
  const picked = new Int32Array(rows.length * maxLen);
  for (const [j, row] of rows.entries())
    picked.set(ids.subarray(row * maxLen, (row + 1) * maxLen), j * maxLen);
  return tf.tidy(
    () => teacher.model.predict(tf.tensor2d(picked, [rows.length, maxLen], 'int32')) as tf.Tensor2D,
  );
}

/** The teacher's logits for all `n` rows of `ids`, row-major [n × k], `batchSize` rows at a time. */
export async function computeTeacherLogits(
  teacher: ClassifierRun,
  ids: Int32Array,
  n: number,
  batchSize = 64,
): Promise<Float32Array> {
  const k = teacher.labels.length;
  const out = new Float32Array(n * k);
  for (let start = 0; start < n; start += batchSize) {
    const rows = Array.from({length: Math.min(batchSize, n - start)}, (_, j) => start + j);
    const logits = teacherLogits(teacher, ids, rows);
    out.set(await logits.data(), start * k);
    logits.dispose();
  }
  return out;
}

/** sha256 of the teacher (weights, labels, maxLen) and of the rows it reads (`ids`). */
export async function teacherCacheKey(teacher: ClassifierRun, ids: Int32Array): Promise<string> {
  const hash = createHash('sha256');
  const modelDir = join(teacher.dir, RUN_FILES.model);
  for (const file of (await readdir(modelDir)).sort()) {
    hash.update(file);
    hash.update(await readFile(join(modelDir, file)));
  }
  hash.update(JSON.stringify({labels: teacher.labels, maxLen: teacher.config.maxLen}));
  hash.update(new Uint8Array(ids.buffer, ids.byteOffset, ids.byteLength));
  return hash.digest('hex');
}

async function readManifest(path: string): Promise<TeacherCacheManifest | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as TeacherCacheManifest;
  } catch {
    return undefined;
  }
}

/**
 * The teacher's logits for every row, read from `dir`'s cache when its manifest has the same key
 * and shape, else computed once and written there (float32 file + manifest) for later epochs and
 * resumed runs.
 */
export async function cachedTeacherLogits(
  dir: string,
  teacher: ClassifierRun,
  ids: Int32Array,
  n: number,
): Promise<{logits: Float32Array; reused: boolean}> {
  const key = await teacherCacheKey(teacher, ids);
  const k = teacher.labels.length;
  const manifestPath = join(dir, TEACHER_CACHE_FILES.manifest);
  const logitsPath = join(dir, TEACHER_CACHE_FILES.logits);
  const manifest = await readManifest(manifestPath);
  if (manifest?.key === key && manifest.rows === n && manifest.classes === k) {
    const bytes = await readFile(logitsPath).catch(() => undefined);
    if (bytes?.byteLength === n * k * 4) {
      const logits = new Float32Array(n * k);
      new Uint8Array(logits.buffer).set(bytes);
      return {logits, reused: true};
    }
  }
  const logits = await computeTeacherLogits(teacher, ids, n);
  await writeFileAtomic(logitsPath, new Uint8Array(logits.buffer));
  const written: TeacherCacheManifest = {key, rows: n, classes: k, dtype: 'float32', teacher: teacher.dir};
  await writeFileAtomic(manifestPath, `${JSON.stringify(written, null, 2)}\n`);
  return {logits, reused: false};
}
