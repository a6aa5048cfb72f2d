import {readFile, rename, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {ModelError} from '../errors.js';

/**
 * A numeric statistic binned at the reference's quantiles: bin i holds values ≤ edges[i] (and
 * > edges[i − 1]); the last bin holds everything above the last edge.
 */
export interface NumericReference {
  type: 'numeric';
  edges: number[];
  /** [edges.length + 1] share of reference rows per bin. */
  shares: number[];
  mean: number;
}

/** A categorical statistic (the predicted label): the share of each category; `other` is none of them. */
export interface CategoricalReference {
  type: 'categorical';
  categories: string[];
  /** [categories.length + 1]: one share per category, then `other`. */
  shares: number[];
}

export type StatisticReference = NumericReference | CategoricalReference;

/**
 * What the server compares live traffic with. Statistics by name: `input_length` (tokens per input),
 * `oov_rate` (share of unknown-token ids per input) and `predicted_label`, each where the model has it.
 */
export interface DriftReference {
  version: 1;
  /** Where the rows came from (`validation: data/val.jsonl`). */
  source: string;
  rows: number;
  statistics: Record<string, StatisticReference>;
}

/** The file a run folder keeps its drift reference in. */
export const DRIFT_REFERENCE_FILE = 'drift-reference.json';

/** Bins at the deciles of `values` (repeated edges merged: a statistic with few values gets few bins). */
export function numericReference(values: readonly number[], bins = 10): NumericReference {
  const sorted = [...values].sort((a, b) => a - b);
  const edges: number[] = [];
  for (let i = 1; i < bins; i++) {
    const edge = sorted[Math.min(sorted.length - 1, Math.ceil((i / bins) * sorted.length) - 1)];
    if (edge !== undefined && edge !== edges.at(-1)) edges.push(edge);
  }
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const v of values) counts[numericBin(edges, v)]!++;
  const n = Math.max(values.length, 1);
  return {
    type: 'numeric',
    edges,
    shares: counts.map((c) => c / n),
    mean: values.reduce((a, b) => a + b, 0) / n,
  };
}

/** The share of each of `categories` among `values`, and of anything else. */
export function categoricalReference(
  values: readonly string[],
  categories: readonly string[],
): CategoricalReference {
  const counts = new Array<number>(categories.length + 1).fill(0);
  for (const v of values) counts[categoricalBin(categories, v)]!++;
  const n = Math.max(values.length, 1);
  return {type: 'categorical', categories: [...categories], shares: counts.map((c) => c / n)};
}

/** The bin of a value under a statistic's reference. */
export function binOf(reference: StatisticReference, value: number | string): number {
  return reference.type === 'numeric'
    ? numericBin(reference.edges, Number(value))
    : categoricalBin(reference.categories, String(value));
}

function numericBin(edges: readonly number[], value: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (value <= edges[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function categoricalBin(categories: readonly string[], value: string): number {
  const i = categories.indexOf(value);
  return i < 0 ? categories.length : i;
}

/** Writes the reference into run folder `dir` (through a temporary name, so a reader never sees half). */
export async function saveDriftReference(dir: string, reference: DriftReference): Promise<string> {
  const path = join(dir, DRIFT_REFERENCE_FILE);
  await writeFile(`${path}.tmp`, `${JSON.stringify(reference, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
  return path;
}

/** The reference of run folder `dir`, or undefined when it has none; a malformed file is a ModelError. */
export async function loadDriftReference(dir: string): Promise<DriftReference | undefined> {
  const path = join(dir, DRIFT_REFERENCE_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ModelError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let reference: DriftReference;
  try {
    reference = JSON.parse(text) as DriftReference;
  } catch (err) {
    throw new ModelError(
      `${path} is not JSON: ${(err as Error).message}`,
      'delete it, or train the run again',
    );
  }
  const bad = Object.entries(reference.statistics ?? {}).find(
    ([, s]) => s.shares?.length !== (s.type === 'numeric' ? s.edges?.length : s.categories?.length) + 1,
  );
  if (reference.version !== 1 || !reference.statistics || bad) {
    throw new ModelError(
      `${path}: not a version 1 drift reference${bad ? ` (statistic "${bad[0]}" has the wrong number of shares)` : ''}`,
      'delete it, or train the run again',
    );
  }
  return reference;
}
