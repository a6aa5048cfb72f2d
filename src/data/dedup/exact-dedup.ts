import {cachedProfile} from '../filters/text-profile.js';
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
    exactDedupHash(text, this.normalize, this.hash);
    return this.table.get(this.hash[1]! | 0, this.hash[0]! | 0);
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

/**
 * normalizedHash64 of `text` into `out`. When the default filters have just profiled this text (one
 * pass that also hashes ASCII text lower-cased with whitespace collapsed) and the options ask for that
 * normalization, the profile's hash is taken instead of reading the text again.
 */
export function exactDedupHash(
  text: string,
  options: Required<NormalizeOptions>,
  out: Uint32Array,
): Uint32Array {
  const folded =
    options.caseFold && options.collapseWhitespace && !options.stripPunctuation
      ? cachedProfile(text)?.foldedHash
      : undefined;
  if (!folded) return normalizedHash64(text, options, out);
  out[0] = folded[0]!;
  out[1] = folded[1]!;
  return out;
}
