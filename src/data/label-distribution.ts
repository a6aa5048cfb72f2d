import {printable} from '../errors.js';
/** How rows (or sample weight) spread over labels, and how far that is from balanced. */
export interface LabelDistribution {
  /** Rows, or total sample weight for a weighted distribution. */
  total: number;
  /** Rows (or weight) per label, largest first. */
  counts: Record<string, number>;
  /** Share of the total per label, same order. */
  shares: Record<string, number>;
  /**
   * KL divergence from the uniform distribution over these labels, in nats:
   * Σ p·ln(p·K) = ln K − H(p). 0 when balanced; ln K at most (all rows in one label).
   */
  klFromUniform: number;
  /** Largest over smallest label count (1 when balanced; Infinity when a label has none). */
  imbalanceRatio: number;
}

/** The distribution of `counts` (label → rows or weight). Labels with 0 still count as labels. */
export function labelDistribution(
  counts: ReadonlyMap<string, number> | Record<string, number>,
): LabelDistribution {
  const entries = (counts instanceof Map ? [...counts] : Object.entries(counts)).sort(
    (a, b) => b[1] - a[1] || a[0].localeCompare(b[0]),
  );
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  const k = entries.length;
  let kl = 0;
  const shares: Record<string, number> = {};
  for (const [label, n] of entries) {
    const p = total === 0 ? 0 : n / total;
    shares[label] = p;
    if (p > 0) kl += p * Math.log(p * k);
  }
  const max = entries[0]?.[1] ?? 0;
  const min = entries[k - 1]?.[1] ?? 0;
  return {
    total,
    counts: Object.fromEntries(entries),
    shares,
    // Rounding can leave -1e-17 for a balanced set.
    klFromUniform: Math.max(0, kl),
    imbalanceRatio: k === 0 ? 1 : min === 0 ? Number.POSITIVE_INFINITY : max / min,
  };
}

/** `pos 1200 (60.0%) · neg 800 (40.0%) · KL 0.020 nats` — one line for a summary. */
export function formatLabelDistribution(d: LabelDistribution, digits = 0): string {
  const parts = Object.entries(d.counts).map(
    ([label, n]) => `${printable(label, 40)} ${n.toFixed(digits)} (${(100 * d.shares[label]).toFixed(1)}%)`,
  );
  return `${parts.join(' · ') || 'no labels'} · KL ${d.klFromUniform.toFixed(3)} nats`;
}
