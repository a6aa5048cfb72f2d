/** Percentiles of a length (chars, words) over a dataset. */
export interface LengthSummary {
  min: number;
  p5: number;
  p50: number;
  p95: number;
  max: number;
  mean: number;
}

/** Lengths below this are counted exactly, one bucket per value. */
const EXACT = 4096;
/** Above EXACT, buckets grow by 1%: a percentile is off by less than 1% of its value. */
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);

/**
 * A histogram of non-negative integer lengths in fixed memory (~40 KB whatever the row count):
 * exact below 4,096, then geometric buckets 1% wide. min, max and mean are exact.
 */
export class LengthHistogram {
  private readonly exact = new Float64Array(EXACT);
  private readonly wide: number[] = [];
  private count = 0;
  private sum = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = 0;

  add(length: number): void {
    this.count++;
    this.sum += length;
    if (length < this.min) this.min = length;
    if (length > this.max) this.max = length;
    if (length < EXACT) this.exact[length]++;
    else {
      const k = Math.floor(Math.log(length / EXACT) / LOG_GROWTH);
      while (this.wide.length <= k) this.wide.push(0);
      this.wide[k]++;
    }
  }

  /** The smallest length with at least q of the rows at or below it (nearest rank), q in [0, 1]. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let v = 0; v < EXACT; v++) {
      seen += this.exact[v];
      if (seen >= rank) return v;
    }
    for (let k = 0; k < this.wide.length; k++) {
      seen += this.wide[k];
      // The bucket's lower edge, but never beyond the largest length seen.
      if (seen >= rank) return Math.min(this.max, Math.ceil(EXACT * GROWTH ** k));
    }
    return this.max;
  }

  summary(): LengthSummary {
    if (this.count === 0) return {min: 0, p5: 0, p50: 0, p95: 0, max: 0, mean: 0};
    return {
      min: this.min,
      p5: this.quantile(0.05),
      p50: this.quantile(0.5),
      p95: this.quantile(0.95),
      max: this.max,
      mean: Math.round((this.sum / this.count) * 10) / 10,
    };
  }
}
