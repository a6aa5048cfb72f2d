/** One group of duplicates: the kept document and (some of) those removed as its copies. */
export interface DuplicateCluster {
  kept: string;
  /** Documents in the cluster, the kept one included. */
  size: number;
  /** The first few removed ids. */
  removed: string[];
  /** Lowest estimated similarity of a removed member to the kept one (1 for exact duplicates). */
  minSimilarity: number;
}

export interface DedupSummary {
  removed: number;
  clusters: number;
  /** Number of clusters of each size (`{"2": 40, "3": 2}`). */
  sizes: Record<string, number>;
  /** The largest clusters, with examples. */
  largest: DuplicateCluster[];
}

/**
 * Records which kept document each removed duplicate repeats, for the report: per cluster a count,
 * a few example ids and the lowest similarity — state grows with the duplicates, not the input.
 */
export class ClusterLog {
  private readonly clusters = new Map<number, {size: number; removed: string[]; minSimilarity: number}>();
  private removed = 0;

  constructor(private readonly examples = 3) {}

  add(keptKey: number, removedId: string, similarity = 1): void {
    this.removed++;
    let c = this.clusters.get(keptKey);
    if (!c) {
      c = {size: 1, removed: [], minSimilarity: 1};
      this.clusters.set(keptKey, c);
    }
    c.size++;
    if (c.removed.length < this.examples) c.removed.push(removedId);
    if (similarity < c.minSimilarity) c.minSimilarity = similarity;
  }

  summary(idOf: (key: number) => string, top = 10): DedupSummary {
    const sizes: Record<string, number> = {};
    for (const c of this.clusters.values()) sizes[c.size] = (sizes[c.size] ?? 0) + 1;
    const largest = [...this.clusters.entries()]
      .sort((a, b) => b[1].size - a[1].size || a[0] - b[0])
      .slice(0, top)
      .map(([key, c]) => ({
        kept: idOf(key),
        size: c.size,
        removed: c.removed,
        minSimilarity: round(c.minSimilarity),
      }));
    return {removed: this.removed, clusters: this.clusters.size, sizes, largest};
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
