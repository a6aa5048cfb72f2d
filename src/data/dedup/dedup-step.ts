import {type Doc, drop, KEEP, type Verdict} from '../doc.js';
import {ClusterLog, type DedupSummary} from './cluster-log.js';
import {ExactDedup} from './exact-dedup.js';
import {IdStore} from './id-store.js';
import {NearDedup, type NearDedupOptions} from './near-dedup.js';
import type {NormalizeOptions} from './normalize.js';

export const DEDUP_MODES = ['both', 'exact', 'near', 'none'] as const;
export type DedupMode = (typeof DEDUP_MODES)[number];

export interface DedupOptions extends NearDedupOptions {
  /** Exact, near, both (exact first, then near), or none. Default both. */
  mode?: DedupMode;
  /** Exact dedup's normalization. */
  normalize?: NormalizeOptions;
}

export interface DedupReport {
  mode: DedupMode;
  exact?: DedupSummary & {normalize: NormalizeOptions};
  near?: DedupSummary & {
    threshold: number;
    numPerm: number;
    bands: number;
    rows: number;
    falseNegativeWeight: number;
    candidatesChecked: number;
    candidatesVerified: number;
    candidatesRejected: number;
    /** Bytes of kept text in the temporary spool file the exact checks read (on disk, not in memory). */
    spoolBytes: number;
  };
  /** Bytes of dedup state (hash tables, signatures, buckets, kept ids) and per kept document. */
  stateBytes: number;
  stateBytesPerDoc: number;
}

/**
 * Streaming dedup that keeps the first document of each group: exact duplicates (by normalized-text
 * hash) are `exact_duplicate`, near duplicates (character 5-gram Jaccard, candidates from MinHash
 * LSH, each checked exactly) `near_duplicate`; the drop
 * detail is the id of the kept document. A near duplicate's normalized hash is mapped to the
 * document it repeats, so a later exact copy of it points at the kept document too.
 */
export class DedupStep {
  readonly mode: DedupMode;
  private readonly exact?: ExactDedup;
  private readonly near?: NearDedup;
  private readonly ids = new IdStore();
  private readonly exactLog = new ClusterLog();
  private readonly nearLog = new ClusterLog();

  constructor(options: DedupOptions = {}) {
    this.mode = options.mode ?? 'both';
    if (this.mode === 'both' || this.mode === 'exact') this.exact = new ExactDedup(options.normalize);
    if (this.mode === 'both' || this.mode === 'near') this.near = new NearDedup(options);
  }

  apply(doc: Doc): Verdict {
    if (this.mode === 'none') return KEEP;
    const key = this.ids.size;
    if (this.exact) {
      const found = this.exact.find(doc.text);
      if (found !== -1) {
        this.exactLog.add(found, doc.id);
        return drop('exact_duplicate', this.ids.get(found));
      }
    }
    const match = this.near?.check(doc.text, key);
    if (match) {
      this.exact?.remember(match.key);
      this.nearLog.add(match.key, doc.id, match.similarity);
      return drop('near_duplicate', this.ids.get(match.key));
    }
    this.exact?.remember(key);
    this.ids.add(doc.id);
    return KEEP;
  }

  /** Frees what dedup holds outside memory (near dedup's spool file). */
  close(): void {
    this.near?.close();
  }

  report(): DedupReport {
    const idOf = (key: number) => this.ids.get(key);
    const stateBytes = (this.exact?.bytes ?? 0) + (this.near?.bytes ?? 0) + this.ids.byteSize;
    const out: DedupReport = {
      mode: this.mode,
      stateBytes,
      stateBytesPerDoc: this.ids.size ? Math.round(stateBytes / this.ids.size) : 0,
    };
    if (this.exact) out.exact = {normalize: this.exact.normalize, ...this.exactLog.summary(idOf)};
    if (this.near) {
      const {params, stats, threshold, numPerm, falseNegativeWeight} = this.near;
      out.near = {
        threshold,
        numPerm,
        bands: params.bands,
        rows: params.rows,
        falseNegativeWeight,
        candidatesChecked: stats.candidatesChecked,
        candidatesVerified: stats.candidatesVerified,
        candidatesRejected: stats.candidatesRejected,
        spoolBytes: this.near.diskBytes,
        ...this.nearLog.summary(idOf),
      };
    }
    return out;
  }
}
