import {ConfigError} from '../errors.js';
import {hash64} from './dedup/hash64.js';
import {Int64Map} from './dedup/int-tables.js';
import {type NormalizeOptions, normalizeText} from './dedup/normalize.js';
import type {Doc} from './doc.js';

export interface SplitOptions {
  /** Share of rows per split, e.g. [0.8, 0.1, 0.1]; scaled to sum to 1 (80,10,10 works too). */
  ratios: readonly number[];
  /** Split names; default train,test for two ratios, train,val,test for three, else split1…splitN. */
  names?: readonly string[];
  /** Salt for the hash: another seed, another (equally deterministic) split. Default 0: unsalted. */
  seed?: number;
  /** What counts as the same text (default NFKC, case fold, collapsed whitespace — as clean's exact dedup). */
  normalize?: NormalizeOptions;
  /**
   * Per label, send each new text to the split furthest below its share (the hash decides while it
   * is below), so every label gets the ratios to within one row. The assignment then depends on
   * row order, and memory holds 12 bytes per distinct text to keep duplicates together.
   */
  stratify?: boolean;
}

export interface SplitReport {
  rows: number;
  names: string[];
  /** The ratios, scaled to sum to 1. */
  ratios: number[];
  /** Rows per split. */
  counts: Record<string, number>;
  /** Rows per split and label (rows without a label under `(none)`). */
  labels: Record<string, Record<string, number>>;
  stratified: boolean;
  /** Rows marked `augmented: true` (from `augment`). */
  augmentedRows: number;
  /**
   * Augmented rows whose source row came earlier: they went to their source's split. The others
   * split by their own text, so they can land apart from their source.
   */
  augmentedWithSource: number;
}

const NO_LABEL = '(none)';

/**
 * Assigns rows to splits by a 64-bit hash of their normalized text: the same text always lands in
 * the same split (exact duplicates never straddle train and test), on every run and machine, and a
 * row's split does not change when rows are added or removed elsewhere.
 *
 * Rows from `augment` carry `source_id`: an augmented row goes to the split its source row went to
 * when the source came earlier (as `augment` writes them), so copies of a test row never train.
 * That costs 12 bytes per source row.
 */
export class Splitter {
  readonly names: string[];
  readonly ratios: number[];
  private readonly bounds: number[];
  private readonly counts: number[];
  private readonly labels = new Map<string, number[]>();
  /** stratify: text hash → the split its first occurrence went to. */
  private readonly seen: Int64Map | undefined;
  private readonly hash = new Uint32Array(2);
  /** Hash of a source row's id → its split, for rows that carry `source_id`. */
  private readonly sources = new Int64Map();
  private readonly idHash = new Uint32Array(2);
  private rows = 0;
  private augmentedRows = 0;
  private augmentedWithSource = 0;

  constructor(private readonly options: SplitOptions) {
    const {ratios} = options;
    if (ratios.length < 2 || ratios.some((r) => !(r > 0) || !Number.isFinite(r))) {
      throw new ConfigError(
        `split ratios must be two or more positive numbers, got ${ratios.join(',')}`,
        'e.g. --ratios 0.8,0.1,0.1',
      );
    }
    const sum = ratios.reduce((a, b) => a + b, 0);
    this.ratios = ratios.map((r) => r / sum);
    this.names = [...(options.names ?? defaultNames(ratios.length))];
    if (this.names.length !== ratios.length || new Set(this.names).size !== this.names.length) {
      throw new ConfigError(
        `${ratios.length} ratios need ${ratios.length} distinct names, got ${this.names.join(',')}`,
        'give one name per ratio with --names',
      );
    }
    let acc = 0;
    this.bounds = this.ratios.map((r) => (acc += r));
    this.bounds[this.bounds.length - 1] = 1;
    this.counts = this.ratios.map(() => 0);
    this.seen = options.stratify ? new Int64Map() : undefined;
  }

  /** The index (into `names`) of the split `doc` belongs to. */
  assign(doc: Doc): number {
    const label = doc.label ?? NO_LABEL;
    let perLabel = this.labels.get(label);
    if (perLabel === undefined) {
      perLabel = this.ratios.map(() => 0);
      this.labels.set(label, perLabel);
    }
    const sourceId = typeof doc.fields.source_id === 'string' ? doc.fields.source_id : undefined;
    const augmented = doc.fields.augmented === true;
    const [idLo, idHi] = sourceId === undefined ? [0, 0] : hash64(sourceId, this.idHash);
    let split = augmented && sourceId !== undefined ? this.sources.get(idHi! | 0, idLo! | 0) : -1;
    if (augmented) this.augmentedRows++;
    if (split !== -1) this.augmentedWithSource++;
    else {
      split = this.textSplit(doc.text, perLabel);
      if (sourceId !== undefined && !augmented && this.sources.get(idHi! | 0, idLo! | 0) === -1) {
        this.sources.set(idHi! | 0, idLo! | 0, split);
      }
    }
    this.rows++;
    this.counts[split]++;
    perLabel[split]++;
    return split;
  }

  /** The split of a text: by its hash, or (stratified) where its label is furthest below its share. */
  private textSplit(text: string, perLabel: number[]): number {
    const [lo, hi] = this.hashText(text);
    let split = this.splitOf(hi + lo / 2 ** 32);
    if (this.seen) {
      const earlier = this.seen.get(hi | 0, lo | 0);
      if (earlier !== -1) split = earlier;
      else {
        split = this.furthestBelow(perLabel, split);
        this.seen.set(hi | 0, lo | 0, split);
      }
    }
    return split;
  }

  report(): SplitReport {
    const byName = (values: number[]) => Object.fromEntries(this.names.map((name, i) => [name, values[i]]));
    const labels: Record<string, Record<string, number>> = {};
    this.names.forEach((name, i) => {
      labels[name] = Object.fromEntries([...this.labels].sort().map(([label, n]) => [label, n[i]]));
    });
    return {
      rows: this.rows,
      names: this.names,
      ratios: this.ratios,
      counts: byName(this.counts),
      labels,
      stratified: this.seen !== undefined,
      augmentedRows: this.augmentedRows,
      augmentedWithSource: this.augmentedWithSource,
    };
  }

  /** The 64-bit hash of the normalized (and salted) text, as [low, high] unsigned halves. */
  private hashText(text: string): [number, number] {
    const normal = normalizeText(text, this.options.normalize);
    const [lo, hi] = hash64(this.options.seed ? `${this.options.seed}\u0000${normal}` : normal, this.hash);
    return [lo!, hi!];
  }

  /** The split whose share of [0, 2^32) holds `h`. */
  private splitOf(h: number): number {
    const u = h / 2 ** 32;
    let split = 0;
    while (u >= this.bounds[split]) split++;
    return split;
  }

  /** `preferred` while that split is below its share of this label, else the split furthest below. */
  private furthestBelow(perLabel: number[], preferred: number): number {
    const n = perLabel.reduce((a, b) => a + b, 0) + 1;
    const deficit = perLabel.map((c, i) => this.ratios[i] * n - c);
    if (deficit[preferred] > 0) return preferred;
    return deficit.indexOf(Math.max(...deficit));
  }
}

export function defaultNames(count: number): string[] {
  if (count === 2) return ['train', 'test'];
  if (count === 3) return ['train', 'val', 'test'];
  return Array.from({length: count}, (_, i) => `split${i + 1}`);
}
