import {ConfigError} from '../../errors.js';
import {CharShingler, jaccardOfSorted, sortDistinct} from './char-shingles.js';
import {fmix32} from './hash64.js';
import {IntMultiMap} from './int-tables.js';
import {type LshParams, optimalLshParams} from './lsh-params.js';
import {OnePermutationHasher} from './one-permutation.js';
import {TextSpool} from './text-spool.js';

export interface NearDedupOptions {
  /** Jaccard similarity of character n-gram sets at or above which a document is a near duplicate. Default 0.7. */
  threshold?: number;
  /** MinHash values per signature (one-permutation bins): more finds candidates more reliably and costs 2 bytes each per kept document. Default 128. */
  numPerm?: number;
  /** Characters per shingle (after case folding and turning punctuation and whitespace runs into one space). Default 5. */
  ngram?: number;
  /** Seed of the hash functions. Default 1. */
  seed?: number;
  /**
   * Weight of missed pairs (false negatives) against candidate pairs under the threshold (false
   * positives, weight 1 − this) when choosing bands × rows. Default 0.9: every candidate is verified
   * against the kept document, so a false positive costs one signature comparison while a false
   * negative leaves a duplicate in the data. 0.5 is datasketch's even balance (at t = 0.7 it
   * gives 14 × 9, which proposes only 44% of pairs at J = 0.7 and 67% at 0.75; 20 × 6 proposes 92% and 98%).
   */
  falseNegativeWeight?: number;
}

/** A near-duplicate found: the kept document it repeats (its key) and their Jaccard similarity. */
export interface NearMatch {
  key: number;
  similarity: number;
}

export interface NearDedupStats {
  /** Kept documents that shared an LSH band with a new one, compared by signature. */
  candidatesChecked: number;
  /** Candidates whose text was compared with the new one's (shingle sets, exactly). */
  candidatesVerified: number;
  /** Candidates under the threshold (LSH false positives): by the exact comparison, or by a signature estimate too far under it to be worth one. */
  candidatesRejected: number;
  /** Documents without a letter or digit: not near-deduplicated (exact dedup handles them). */
  noShingles: number;
}

/**
 * Near-duplicate detection, streaming: a document is a near duplicate of an earlier kept one when
 * the Jaccard similarity of their character n-gram sets (see CharShingler) is at least the
 * threshold. MinHash + LSH (Broder 1997; Leskovec et al., Mining of Massive Datasets §3.4) proposes
 * candidates among the kept documents; each candidate is then checked exactly, its kept text read
 * back from a spool file and shingled again, so nothing is removed on an estimate, and a chain of
 * loose matches (A≈B≈C with A≉C) can never remove a whole cluster: only kept documents are ever
 * compared with.
 *
 * Signatures use one-permutation hashing (see OnePermutationHasher): a character n-gram set is
 * about five times larger than a word n-gram set, and hashing each shingle once instead of numPerm
 * times keeps the cost per byte below the word version's.
 *
 * State in memory per kept document: its signature at 16 bits per value (the low half of each
 * min-hash: two different values then agree by chance with probability 2^-16), used to skip the
 * exact check for candidates far under the threshold, one bucket entry per band and an 8-byte offset
 * into the spool — about 2·numPerm + 16·bands + 16 bytes. The spool holds the kept texts on disk.
 */
export class NearDedup {
  readonly params: LshParams;
  readonly threshold: number;
  readonly numPerm: number;
  readonly falseNegativeWeight: number;
  readonly stats: NearDedupStats = {
    candidatesChecked: 0,
    candidatesVerified: 0,
    candidatesRejected: 0,
    noShingles: 0,
  };
  /** A candidate whose signature estimate is this far under the threshold is rejected without reading its text. */
  readonly estimateMargin: number;
  private readonly signer: NearSigner;
  private readonly shingler: CharShingler;
  private readonly keptShingler: CharShingler;
  private readonly sig: Int32Array;
  private readonly buckets = new IntMultiMap(1 << 12);
  private readonly spool = new TextSpool();
  private signatures: Uint16Array;
  private keys = new Int32Array(1024);
  private stamps = new Int32Array(1024);
  private kept = 0;
  private query = 0;
  private readonly bandHashes: Int32Array;
  private candidates: number[] = [];
  private estimates: number[] = [];
  /** The new document's distinct sorted shingles (made on its first exact check), and how many. */
  private distinct = new Int32Array(4096);
  private distinctCount = -1;

  constructor(options: NearDedupOptions = {}) {
    this.threshold = options.threshold ?? 0.7;
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
    this.estimateMargin = estimateMargin(this.threshold, this.numPerm);
    this.signer = new NearSigner(this.params, this.numPerm, ngram, options.seed ?? 1);
    this.shingler = this.signer.shingler;
    this.keptShingler = new CharShingler(ngram);
    this.sig = this.signer.sig;
    this.signatures = new Uint16Array(this.numPerm * 1024);
    this.bandHashes = this.signer.bandHashes;
  }

  /**
   * The kept document `text` nearly repeats, if any; otherwise `text` is kept: it enters the index
   * under `key` (the caller's handle for it, e.g. its ordinal in an id store) and undefined is returned.
   */
  check(text: string, key: number): NearMatch | undefined {
    const count = this.signer.sign(text);
    if (count === 0) {
      this.stats.noShingles++;
      return undefined;
    }
    const match = this.verifiedCandidate(count);
    if (match) return match;
    this.add(key, text);
    return undefined;
  }

  /** Bytes held in memory by the index (signatures, buckets, keys, spool offsets and buffers). */
  get bytes(): number {
    return (
      this.signatures.byteLength +
      this.buckets.bytes +
      this.keys.byteLength +
      this.stamps.byteLength +
      this.spool.memoryBytes
    );
  }

  /** Bytes of kept text in the spool file. */
  get diskBytes(): number {
    return this.spool.diskBytes;
  }

  /** Kept documents in the index. */
  get size(): number {
    return this.kept;
  }

  /** Removes the spool file. */
  close(): void {
    this.spool.close();
  }

  /** The best-estimated candidate whose exact similarity reaches the threshold. */
  private verifiedCandidate(count: number): NearMatch | undefined {
    const stamp = ++this.query;
    const floor = this.threshold - this.estimateMargin;
    const candidates = this.candidates;
    const estimates = this.estimates;
    candidates.length = 0;
    estimates.length = 0;
    const visit = (doc: number) => {
      if (this.stamps[doc] === stamp) return;
      this.stamps[doc] = stamp;
      this.stats.candidatesChecked++;
      const estimate = this.estimateWith(doc);
      if (estimate < floor) {
        this.stats.candidatesRejected++;
        return;
      }
      candidates.push(doc);
      estimates.push(estimate);
    };
    for (let band = 0; band < this.params.bands; band++) this.buckets.forEach(this.bandHashes[band]!, visit);
    if (candidates.length === 0) return undefined;
    this.distinctCount = -1;
    const order = candidates.map((_, i) => i).sort((a, b) => estimates[b]! - estimates[a]!);
    for (const i of order) {
      const similarity = this.exactSimilarity(candidates[i]!, count);
      if (similarity >= this.threshold) return {key: this.keys[candidates[i]!]!, similarity};
      this.stats.candidatesRejected++;
    }
    return undefined;
  }

  private estimateWith(doc: number): number {
    const {sig, numPerm, signatures} = this;
    const base = doc * numPerm;
    let same = 0;
    for (let i = 0; i < numPerm; i++) if ((sig[i]! & 0xffff) === signatures[base + i]) same++;
    return same / numPerm;
  }

  /** Jaccard similarity of the new document's shingle set and kept document `doc`'s, from its text. */
  private exactSimilarity(doc: number, count: number): number {
    this.stats.candidatesVerified++;
    if (this.distinctCount < 0) {
      if (this.distinct.length < count) this.distinct = new Int32Array(count * 2);
      this.distinct.set(this.shingler.hashes.subarray(0, count));
      this.distinctCount = sortDistinct(this.distinct, count);
    }
    const kept = this.keptShingler;
    const shingles = kept.shingle(this.spool.get(doc)); // may replace kept.hashes: read it after
    const keptCount = sortDistinct(kept.hashes, shingles);
    return jaccardOfSorted(this.distinct, this.distinctCount, kept.hashes, keptCount);
  }

  private add(key: number, text: string): void {
    const doc = this.kept++;
    if (doc === this.keys.length) {
      this.keys = grown(this.keys);
      this.stamps = grown(this.stamps);
      const bigger = new Uint16Array(this.signatures.length * 2);
      bigger.set(this.signatures);
      this.signatures = bigger;
    }
    this.keys[doc] = key;
    this.spool.add(text);
    const base = doc * this.numPerm;
    for (let i = 0; i < this.numPerm; i++) this.signatures[base + i] = this.sig[i]! & 0xffff;
    for (let band = 0; band < this.params.bands; band++) this.buckets.add(this.bandHashes[band]!, doc);
  }
}

/**
 * A candidate whose signature estimate is this far under the threshold is rejected without an
 * exact check: four standard errors of the estimate at the threshold, and 0.1 more for the extra
 * variance of densified bins in texts with fewer shingles than bins.
 */
export function estimateMargin(threshold: number, numPerm: number): number {
  return 0.1 + 4 * Math.sqrt((threshold * (1 - threshold)) / numPerm);
}

/**
 * A document's near-dedup signature: its character shingles (`shingler.hashes`), one-permutation
 * MinHash (`sig`, [numPerm]) and one LSH bucket key per band (`bandHashes`, [bands]); NearDedup
 * and the sharded stages (src/data/stages) compute them with this one piece of code.
 */
export class NearSigner {
  readonly shingler: CharShingler;
  readonly sig: Int32Array;
  readonly bandHashes: Int32Array;
  private readonly hasher: OnePermutationHasher;

  constructor(
    readonly params: LshParams,
    readonly numPerm: number,
    ngram = 5,
    seed = 1,
  ) {
    this.shingler = new CharShingler(ngram);
    this.hasher = new OnePermutationHasher(numPerm, seed);
    this.sig = new Int32Array(numPerm);
    this.bandHashes = new Int32Array(params.bands);
  }

  /** Signs `text`; returns its shingle count (0: no letter or digit, nothing signed). */
  sign(text: string): number {
    const count = this.shingler.shingle(text);
    if (count === 0) return 0;
    const sig = this.hasher.signature(this.shingler.hashes, count, this.sig);
    const {bands, rows} = this.params;
    for (let band = 0; band < bands; band++) {
      let h = Math.imul(band + 1, 0x9e3779b1);
      for (let r = band * rows, end = r + rows; r < end; r++) h = Math.imul(h ^ sig[r]!, 0x01000193);
      this.bandHashes[band] = fmix32(h) | 0;
    }
    return count;
  }
}

function grown(a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}
