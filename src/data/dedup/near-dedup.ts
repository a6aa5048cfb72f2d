import {ConfigError} from '../../errors.js';
import {fmix32} from './hash64.js';
import {IntMultiMap} from './int-tables.js';
import {type LshParams, optimalLshParams} from './lsh-params.js';
import {MinHasher} from './minhash.js';
import {Shingler} from './shingles.js';

export interface NearDedupOptions {
  /** Estimated Jaccard similarity of shingle sets at or above which a document is a near duplicate. Default 0.8. */
  threshold?: number;
  /** MinHash permutations: more is a finer estimate (standard error ≈ √(J(1−J)/numPerm)) and more memory. Default 128. */
  numPerm?: number;
  /** Tokens per shingle (words; CJK characters count one each). Default 5. */
  ngram?: number;
  /** Seed of the hash functions. Default 1. */
  seed?: number;
  /**
   * Weight of missed pairs (false negatives) against candidate pairs under the threshold (false
   * positives, weight 1 − this) when choosing bands × rows. Default 0.9: every candidate is verified
   * against the kept document, so a false positive costs one signature comparison while a false
   * negative leaves a duplicate in the data. 0.5 is datasketch's even balance (at t = 0.8 it
   * gives 9 × 13, which finds only 40% of pairs at J = 0.8 and 69% at 0.85; 14 × 9 finds 87% and 98%).
   */
  falseNegativeWeight?: number;
}

/** A near-duplicate found: the kept document it repeats (its key) and their estimated similarity. */
export interface NearMatch {
  key: number;
  similarity: number;
}

export interface NearDedupStats {
  /** Documents sharing an LSH band with a kept one, compared by signature. */
  candidatesChecked: number;
  /** Candidates whose estimated similarity was under the threshold (LSH false positives). */
  candidatesRejected: number;
  /** Documents without a single word: not near-deduplicated (exact dedup handles them). */
  noShingles: number;
}

/**
 * Near-duplicate detection with MinHash + LSH (Broder 1997; Leskovec et al., Mining of Massive
 * Datasets §3.4), streaming: only kept documents enter the index, and a new document is a
 * duplicate only if its estimated Jaccard similarity to a kept document reaches the threshold.
 * Candidates from the LSH buckets are always verified against that kept document, so a chain of
 * loose matches (A≈B≈C with A≉C) can never remove a whole cluster.
 *
 * State per kept document: its signature at 16 bits per permutation (the top half of each
 * min-hash; two different values then agree by chance with probability 2^-16) plus one bucket entry
 * per band — about 2·numPerm + 16·bands bytes.
 */
export class NearDedup {
  readonly params: LshParams;
  readonly threshold: number;
  readonly numPerm: number;
  readonly falseNegativeWeight: number;
  readonly stats: NearDedupStats = {candidatesChecked: 0, candidatesRejected: 0, noShingles: 0};
  private readonly shingler: Shingler;
  private readonly hasher: MinHasher;
  private readonly sig: Int32Array;
  private readonly buckets = new IntMultiMap(1 << 12);
  private signatures: Uint16Array;
  private keys = new Int32Array(1024);
  private stamps = new Int32Array(1024);
  private kept = 0;
  private query = 0;
  private readonly bandHashes: Int32Array;

  constructor(options: NearDedupOptions = {}) {
    this.threshold = options.threshold ?? 0.8;
    this.numPerm = options.numPerm ?? 128;
    const ngram = options.ngram ?? 5;
    if (!Number.isInteger(ngram) || ngram < 1)
      throw new ConfigError(`shingle size must be an integer >= 1, got ${ngram}`);
    const fnWeight = options.falseNegativeWeight ?? 0.9;
    this.falseNegativeWeight = fnWeight;
    if (!(fnWeight > 0 && fnWeight < 1))
      throw new ConfigError(`false-negative weight must be in (0, 1), got ${fnWeight}`);
    this.params = optimalLshParams(this.threshold, this.numPerm, {
      falsePositive: 1 - fnWeight,
      falseNegative: fnWeight,
    });
    this.shingler = new Shingler(ngram);
    this.hasher = new MinHasher(this.numPerm, options.seed ?? 1);
    this.sig = new Int32Array(this.numPerm);
    this.signatures = new Uint16Array(this.numPerm * 1024);
    this.bandHashes = new Int32Array(this.params.bands);
  }

  /**
   * The kept document `text` nearly repeats, if any; otherwise `text` is kept: it enters the index
   * under `key` (the caller's handle for it, e.g. its ordinal in an id store) and undefined is returned.
   */
  check(text: string, key: number): NearMatch | undefined {
    const count = this.shingler.shingle(text);
    if (count === 0) {
      this.stats.noShingles++;
      return undefined;
    }
    const sig = this.hasher.signature(this.shingler.hashes, count, this.sig);
    const {bands, rows} = this.params;
    for (let band = 0; band < bands; band++) {
      let h = Math.imul(band + 1, 0x9e3779b1);
      for (let r = band * rows, end = r + rows; r < end; r++) h = Math.imul(h ^ sig[r]!, 0x01000193);
      this.bandHashes[band] = fmix32(h) | 0;
    }
    const best = this.bestCandidate();
    if (best) return best;
    this.add(key);
    return undefined;
  }

  /** Bytes held by the index (signatures, buckets, keys). */
  get bytes(): number {
    return this.signatures.byteLength + this.buckets.bytes + this.keys.byteLength + this.stamps.byteLength;
  }

  /** Kept documents in the index. */
  get size(): number {
    return this.kept;
  }

  private bestCandidate(): NearMatch | undefined {
    const stamp = ++this.query;
    let best: NearMatch | undefined;
    const visit = (doc: number) => {
      if (this.stamps[doc] === stamp) return;
      this.stamps[doc] = stamp;
      this.stats.candidatesChecked++;
      const similarity = this.similarityTo(doc);
      if (similarity < this.threshold) {
        this.stats.candidatesRejected++;
      } else if (!best || similarity > best.similarity) {
        best = {key: this.keys[doc]!, similarity};
      }
    };
    for (let band = 0; band < this.params.bands; band++) this.buckets.forEach(this.bandHashes[band]!, visit);
    return best;
  }

  private similarityTo(doc: number): number {
    const {sig, numPerm, signatures} = this;
    const base = doc * numPerm;
    let same = 0;
    for (let i = 0; i < numPerm; i++) if (sig[i]! >>> 16 === signatures[base + i]) same++;
    return same / numPerm;
  }

  private add(key: number): void {
    const doc = this.kept++;
    if (doc === this.keys.length) {
      this.keys = grown(this.keys);
      this.stamps = grown(this.stamps);
      const bigger = new Uint16Array(this.signatures.length * 2);
      bigger.set(this.signatures);
      this.signatures = bigger;
    }
    this.keys[doc] = key;
    const base = doc * this.numPerm;
    for (let i = 0; i < this.numPerm; i++) this.signatures[base + i] = this.sig[i]! >>> 16;
    for (let band = 0; band < this.params.bands; band++) this.buckets.add(this.bandHashes[band]!, doc);
  }
}

function grown(a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}
