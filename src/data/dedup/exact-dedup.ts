import {Int64Map} from './int-tables.js';
import {DEFAULT_NORMALIZE, type NormalizeOptions, normalizedHash64} from './normalize.js';

/**
 * Exact dedup on normalized text (NFKC, case fold, collapsed whitespace by default): the caller keeps
 * the first document with a given normalized text; later ones are duplicates of it. State: the 64-bit
 * hash of each kept text and the caller's key, 12 bytes in a table at most half full.
 */
export class ExactDedup {
  readonly normalize: Required<NormalizeOptions>;
  private readonly table = new Int64Map(1 << 12);
  private readonly hash = new Uint32Array(2);

  constructor(normalize: NormalizeOptions = {}) {
    this.normalize = {...DEFAULT_NORMALIZE, ...normalize};
  }

  /**
   * The key of the kept document whose normalized text equals this one's, or -1. The hash is kept
   * for a following `remember`.
   */
  find(text: string): number {
    const [lo, hi] = normalizedHash64(text, this.normalize, this.hash);
    return this.table.get(hi! | 0, lo! | 0);
  }

  /** Maps the text last passed to `find` (which found nothing) to `key`. */
  remember(key: number): void {
    this.table.set(this.hash[1]! | 0, this.hash[0]! | 0, key);
  }

  get bytes(): number {
    return this.table.bytes;
  }

  get size(): number {
    return this.table.size;
  }
}
