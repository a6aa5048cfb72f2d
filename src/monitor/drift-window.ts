import {binOf, type DriftReference} from './drift-reference.js';
import {psi} from './psi.js';

/** One statistic's drift now: PSI of the window against the reference, over `observed` values. */
export interface StatisticDrift {
  psi: number;
  observed: number;
  /** Numeric statistics: the window's mean and the reference's. */
  mean?: number;
  reference_mean?: number;
}

/**
 * The last `size` observed values of each statistic of a reference, kept as bin indices in a ring,
 * with the counts per bin up to date: `drift()` costs one pass over the bins, not over the window.
 */
export class DriftWindow {
  private readonly rings = new Map<
    string,
    {bins: Int32Array; values: Float64Array; next: number; filled: number}
  >();
  private readonly counts = new Map<string, number[]>();

  constructor(
    readonly reference: DriftReference,
    readonly size = 1000,
  ) {
    for (const [name, stat] of Object.entries(reference.statistics)) {
      this.rings.set(name, {bins: new Int32Array(size), values: new Float64Array(size), next: 0, filled: 0});
      this.counts.set(name, new Array<number>(stat.shares.length).fill(0));
    }
  }

  /** Adds a value of statistic `name` (ignored when the reference has no such statistic). */
  observe(name: string, value: number | string): void {
    const stat = this.reference.statistics[name];
    const ring = this.rings.get(name);
    if (!stat || !ring) return;
    const counts = this.counts.get(name)!;
    const bin = binOf(stat, value);
    if (ring.filled === this.size) counts[ring.bins[ring.next]!]!--;
    else ring.filled++;
    ring.bins[ring.next] = bin;
    ring.values[ring.next] = typeof value === 'number' ? value : 0;
    ring.next = (ring.next + 1) % this.size;
    counts[bin]!++;
  }

  /** PSI per statistic over the window (statistics with no value observed yet are left out). */
  drift(): Record<string, StatisticDrift> {
    const out: Record<string, StatisticDrift> = {};
    for (const [name, stat] of Object.entries(this.reference.statistics)) {
      const ring = this.rings.get(name)!;
      if (ring.filled === 0) continue;
      const entry: StatisticDrift = {psi: psi(stat.shares, this.counts.get(name)!), observed: ring.filled};
      if (stat.type === 'numeric') {
        let sum = 0;
        for (let i = 0; i < ring.filled; i++) sum += ring.values[i]!;
        entry.mean = sum / ring.filled;
        entry.reference_mean = stat.mean;
      }
      out[name] = entry;
    }
    return out;
  }
}
