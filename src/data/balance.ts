import {DatasetError} from '../errors.js';
import {type Doc, drop, type Verdict} from './doc.js';
import {type LabelDistribution, labelDistribution} from './label-distribution.js';
import {Rng} from './rng.js';

/**
 * oversample: copy rows of the smaller labels up to the largest label's count;
 * undersample: keep a random subset of each label, down to the smallest label's count;
 * weight: keep every row once and give it a `weight` (inverse label frequency, smoothed).
 */
export const BALANCE_STRATEGIES = ['oversample', 'undersample', 'weight'] as const;
export type BalanceStrategy = (typeof BALANCE_STRATEGIES)[number];

export interface BalanceOptions {
  strategy: BalanceStrategy;
  /** Seed for which rows are copied or kept. Default 42. */
  seed?: number;
  /**
   * weight: additive smoothing s of the label counts, w ∝ 1 / (n + s). 0 gives scikit-learn's
   * `balanced` weights N / (K·n); larger s pulls the weights of rare labels towards 1. Default 1.
   */
  smoothing?: number;
}

export interface BalanceReport {
  strategy: BalanceStrategy;
  seed: number;
  rowsIn: number;
  rowsOut: number;
  /** Rows per label as read. */
  before: LabelDistribution;
  /** Rows per label written; for `weight`, the total weight per label. */
  after: LabelDistribution;
  /** weight: the weight given to each label's rows (mean over all rows is 1). */
  weights?: Record<string, number>;
  smoothing?: number;
}

/** The first pass: rows per label. Every row must have a label. */
export async function countLabels(docs: AsyncIterable<Doc> | Iterable<Doc>): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for await (const doc of docs) {
    const label = requireLabel(doc);
    counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  return counts;
}

/**
 * The second pass: given the label counts of the whole input, decides row by row, so the rows
 * stream through in constant memory. Copies and picks are drawn by selection sampling (Knuth's
 * Algorithm S), so every label ends with exactly its target count.
 */
export class Balancer {
  readonly strategy: BalanceStrategy;
  readonly seed: number;
  readonly smoothing: number;
  /** Label → rows it should end with (over/undersample), or weight of its rows. */
  private readonly target = new Map<string, number>();
  private readonly weights = new Map<string, number>();
  private readonly seen = new Map<string, number>();
  private readonly picked = new Map<string, number>();
  private readonly written = new Map<string, number>();
  private readonly rng: Rng;
  private rowsIn = 0;
  private rowsOut = 0;

  constructor(
    private readonly counts: ReadonlyMap<string, number>,
    options: BalanceOptions,
  ) {
    this.strategy = options.strategy;
    this.seed = options.seed ?? 42;
    this.smoothing = options.smoothing ?? 1;
    this.rng = new Rng(this.seed);
    if (!(this.smoothing >= 0)) throw new RangeError(`smoothing must be >= 0, got ${this.smoothing}`);
    const sizes = [...counts.values()];
    const goal = this.strategy === 'oversample' ? Math.max(...sizes) : Math.min(...sizes);
    const total = sizes.reduce((a, b) => a + b, 0);
    // Scale so that the weights average 1 over the rows: Σ n·w = N.
    const scale = total / sizes.reduce((sum, n) => sum + n / (n + this.smoothing), 0);
    for (const [label, n] of counts) {
      this.target.set(label, goal);
      this.weights.set(label, Number((scale / (n + this.smoothing)).toPrecision(6)));
      this.seen.set(label, 0);
      this.picked.set(label, 0);
      this.written.set(label, 0);
    }
  }

  /** A row: kept (with a weight), kept with copies after it, or dropped (`undersampled`). */
  apply(doc: Doc): Verdict | Doc[] {
    const label = requireLabel(doc);
    const n = this.counts.get(label);
    const seen = this.seen.get(label) ?? 0;
    if (n === undefined || seen >= n) {
      throw new DatasetError(
        `row ${doc.id}: label "${label}" has more rows than the first pass counted`,
        'the input changed between the two passes; balance a file that is not being written to',
      );
    }
    this.seen.set(label, seen + 1);
    this.rowsIn++;
    const out = this.decide(doc, label, n, seen);
    if (Array.isArray(out)) {
      this.rowsOut += out.length;
      this.written.set(label, this.written.get(label)! + out.length);
    }
    return out;
  }

  report(): BalanceReport {
    const after =
      this.strategy === 'weight'
        ? new Map([...this.written].map(([label, rows]) => [label, rows * this.weights.get(label)!]))
        : this.written;
    return {
      strategy: this.strategy,
      seed: this.seed,
      rowsIn: this.rowsIn,
      rowsOut: this.rowsOut,
      before: labelDistribution(this.counts),
      after: labelDistribution(after),
      ...(this.strategy === 'weight'
        ? {weights: Object.fromEntries(this.weights), smoothing: this.smoothing}
        : {}),
    };
  }

  /** `seen`: rows of this label before this one. */
  private decide(doc: Doc, label: string, n: number, seen: number): Verdict | Doc[] {
    if (this.strategy === 'weight') return [{...doc, weight: this.weights.get(label)!}];
    const target = this.target.get(label)!;
    // Each row is written ⌊target/n⌋ times, and `extra` rows of the label once more.
    const times = Math.floor(target / n);
    const extra = target - times * n;
    const picked = this.picked.get(label)!;
    const pick = this.rng.next() * (n - seen) < extra - picked;
    if (pick) this.picked.set(label, picked + 1);
    const copies = times + (pick ? 1 : 0);
    if (copies === 0) return drop('undersampled');
    const out = [doc];
    for (let k = 1; k < copies; k++) {
      out.push({
        ...doc,
        id: `${doc.id}#copy${k}`,
        fields: {...doc.fields, source_id: doc.fields.source_id ?? doc.id},
      });
    }
    return out;
  }
}

function requireLabel(doc: Doc): string {
  if (doc.label === undefined || doc.label === '') {
    throw new DatasetError(
      `row ${doc.id} has no label`,
      'balance needs a label on every row; name it with --label-field',
    );
  }
  return doc.label;
}
