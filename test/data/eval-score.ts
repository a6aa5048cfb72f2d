// Scores a clean run on the evaluation corpus (eval-corpus.ts): recall of near copies by edit and
// by length, exact copies, originals kept, real documents lost to the rules, junk removed by kind.
import {Cleaner, type CleanerOptions} from '../../src/data/cleaner.js';
import {type EvalRow, LENGTH_BUCKETS, lengthBucket, rawCharJaccard} from './eval-corpus.js';

const DEDUP_REASONS = new Set(['exact_duplicate', 'near_duplicate']);

export interface Rate {
  hit: number;
  of: number;
}
export interface EvalScore {
  /** Near copies with raw character 5-gram Jaccard >= 0.7 with their original, removed by dedup. */
  near: Rate;
  nearByEdit: Record<string, Rate>;
  nearByLength: Record<string, Rate>;
  /** Near copies under 0.7: removed anyway (not part of the bar). */
  nearBelow: Rate;
  exact: Rate;
  /** Originals (and real short documents) kept, by anything. */
  originalsKept: Rate;
  /** Originals removed as duplicates of another original (real repeats in a source). */
  originalsDeduped: number;
  /** Real documents (originals and short documents) dropped by a rule, and those of the 5-20 word short ones. */
  realLost: Rate;
  shortLost: Rate;
  /** Which rules dropped real documents, with an example each. */
  realLostBy: Record<string, {count: number; example: string}>;
  junkRemoved: Rate;
  junkByKind: Record<string, Rate>;
}

const rate = (): Rate => ({hit: 0, of: 0});
const add = (m: Record<string, Rate>, key: string, hit: boolean) => {
  const r = m[key] ?? rate();
  m[key] = r;
  r.of++;
  if (hit) r.hit++;
};

/** `dropped`: the rows a run removed, id → reason. */
export function scoreRun(rows: readonly EvalRow[], dropped: ReadonlyMap<string, string>): EvalScore {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const s: EvalScore = {
    near: rate(),
    nearByEdit: {},
    nearByLength: Object.fromEntries(LENGTH_BUCKETS.map(([lo, hi]) => [`${lo}-${hi}`, rate()])),
    nearBelow: rate(),
    exact: rate(),
    originalsKept: rate(),
    originalsDeduped: 0,
    realLost: rate(),
    shortLost: rate(),
    realLostBy: {},
    junkRemoved: rate(),
    junkByKind: {},
  };
  for (const row of rows) {
    const reason = dropped.get(row.id);
    const byDedup = reason !== undefined && DEDUP_REASONS.has(reason);
    const byRule = reason !== undefined && !byDedup;
    if (row.role === 'near') {
      const original = byId.get(row.of!)!;
      if (rawCharJaccard(original.text, row.text) >= 0.7) {
        s.near.of++;
        if (byDedup) s.near.hit++;
        add(s.nearByEdit, row.edit!, byDedup);
        add(s.nearByLength, lengthBucket(original.words), byDedup);
      } else {
        s.nearBelow.of++;
        if (byDedup) s.nearBelow.hit++;
      }
    } else if (row.role === 'exact') {
      s.exact.of++;
      if (byDedup) s.exact.hit++;
    } else if (row.role === 'junk') {
      s.junkRemoved.of++;
      if (reason !== undefined) s.junkRemoved.hit++;
      add(s.junkByKind, row.kind!, reason !== undefined);
    } else {
      s.originalsKept.of++;
      if (reason === undefined) s.originalsKept.hit++;
      if (byDedup) s.originalsDeduped++;
      s.realLost.of++;
      const short = row.role === 'short' || row.words <= 20;
      if (short) s.shortLost.of++;
      if (byRule) {
        s.realLost.hit++;
        if (short) s.shortLost.hit++;
        const by = s.realLostBy[reason] ?? {count: 0, example: row.text.slice(0, 160)};
        s.realLostBy[reason] = by;
        by.count++;
      }
    }
  }
  return s;
}

export const ratio = (r: Rate) => (r.of === 0 ? Number.NaN : r.hit / r.of);

/** Runs `clean`'s step over the rows in order; returns the dropped ones, id → reason. */
export function cleanRows(rows: readonly EvalRow[], options: CleanerOptions): Map<string, string> {
  const cleaner = new Cleaner(options);
  const dropped = new Map<string, string>();
  try {
    for (const row of rows) {
      const v = cleaner.apply({id: row.id, text: row.text, fields: {}});
      if (!Array.isArray(v) && !(v as {keep: boolean}).keep)
        dropped.set(row.id, (v as {reason: string}).reason);
    }
  } finally {
    cleaner.close();
  }
  return dropped;
}

/** How the quality-model bar trains its `bag` classifier: the settings of the IMDB quality test. */
export const QUALITY_MODEL_TRAINING = {
  preset: 'bag',
  epochs: 10,
  lr: 3e-3,
  weightDecay: 0.01,
  patience: 2,
  batchSize: 32,
} as const;
