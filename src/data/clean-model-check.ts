import {type Doc, drop, KEEP, type Verdict} from './doc.js';

/** Scores texts with a model: one number per text, in the order given. */
export type BatchScorer = (texts: string[]) => Promise<number[]>;

/**
 * A model-based quality check for `clean`, after the rules and dedup ("rules plus a model check",
 * as DCLM and FineWeb-Edu filter with a fastText classifier and CCNet with a KenLM perplexity): a
 * row is kept when its score passes the bound; `NaN` (a text the model cannot score, e.g. empty
 * after tokenizing) is kept.
 */
export interface ModelCheck {
  /** What the score is, for reports and drop details (`quality`, `perplexity`). */
  name: string;
  score: BatchScorer;
  /** Keep rows scoring at least this (a classifier's probability of the good label). */
  min?: number;
  /** Keep rows scoring at most this (a language model's perplexity). */
  max?: number;
  /** Reason of a drop: `low_quality`, `high_perplexity`. */
  reason: string;
  /** Write the score onto every scored row (kept or rejected) under this field. */
  field?: string;
  /** Texts per scorer call; the runner's batches (≤ 256 rows) are cut to this. Default 64. */
  batchSize?: number;
}

/** The verdict of one check on one score. */
export function judgeScore(check: ModelCheck, score: number): Verdict {
  if (check.min !== undefined && score < check.min)
    return drop(check.reason, `${check.name} ${round(score)} < ${check.min}`);
  if (check.max !== undefined && score > check.max)
    return drop(check.reason, `${check.name} ${round(score)} > ${check.max}`);
  return KEEP;
}

/**
 * Runs the checks, in order, over a batch of rows the earlier steps kept: each check scores only the
 * rows still kept, `batchSize` texts per call. Returns, in input order, each row's verdict and the row
 * with its score fields (the input object when no field is asked for).
 */
export async function applyModelChecks(
  docs: readonly Doc[],
  checks: readonly ModelCheck[],
): Promise<{verdict: Verdict; doc: Doc}[]> {
  const out = docs.map((doc) => ({verdict: KEEP, doc}));
  for (const check of checks) {
    const live = out.filter((o) => o.verdict.keep);
    const size = check.batchSize ?? 64;
    for (let start = 0; start < live.length; start += size) {
      const chunk = live.slice(start, start + size);
      const scores = await check.score(chunk.map((o) => o.doc.text));
      if (scores.length !== chunk.length)
        throw new Error(`${check.name} scorer returned ${scores.length} scores for ${chunk.length} texts`);
      for (const [i, o] of chunk.entries()) {
        const score = scores[i]!;
        if (check.field) o.doc = {...o.doc, fields: {...o.doc.fields, [check.field]: round(score)}};
        o.verdict = judgeScore(check, score);
      }
    }
  }
  return out;
}

function round(x: number): number {
  return Number.isFinite(x) ? Math.round(x * 1e4) / 1e4 : x;
}
