import {fmix32} from './hash64.js';

/**
 * MinHash signatures by one-permutation hashing with optimal densification (Li, Owen & Zhang 2012;
 * Shrivastava 2017, "Optimal Densification for Fast and Accurate Minwise Hashing"): each shingle
 * hash is looked at once — its top bits pick one of `numPerm` bins, the bin keeps its smallest
 * hash — instead of once per permutation, so a signature costs O(shingles + numPerm) rather than
 * O(shingles · numPerm). A bin no shingle fell into (short texts) takes the value of a non-empty bin
 * chosen by a fixed pseudo-random probe sequence of its own, the same for every document; two
 * documents then agree at each position with probability equal to the Jaccard similarity of their
 * shingle sets, as with numPerm independent permutations.
 */
export class OnePermutationHasher {
  private readonly filled: Uint8Array;

  constructor(
    readonly numPerm = 128,
    private readonly seed = 1,
  ) {
    if (!Number.isInteger(numPerm) || numPerm < 2 || numPerm > 65536)
      throw new RangeError(`numPerm must be an integer in [2, 65536], got ${numPerm}`);
    this.filled = new Uint8Array(numPerm);
  }

  /**
   * Writes the signature of `shingles[0..count)` into `out` (length numPerm). Values are hashes
   * offset by 2^31, so a signed comparison orders them as unsigned; an empty input gives all
   * 0x7fffffff.
   */
  signature(shingles: Int32Array, count: number, out: Int32Array): Int32Array {
    const k = this.numPerm;
    const filled = this.filled;
    out.fill(0x7fffffff);
    filled.fill(0);
    if (count === 0) return out;
    const salt = Math.imul(this.seed, 0x9e3779b1);
    for (let j = 0; j < count; j++) {
      const h = fmix32(shingles[j]! ^ salt);
      // Bin from the top 16 bits (multiply-shift: uniform for any k), value: the whole hash.
      const bin = ((h >>> 16) * k) >>> 16;
      const v = (h ^ 0x80000000) | 0;
      if (v < out[bin]!) out[bin] = v;
      filled[bin] = 1;
    }
    let empty = 0;
    for (let i = 0; i < k; i++) if (filled[i] === 0) empty++;
    if (empty === 0) return out;
    // Optimal densification: bin i probes bins hash(i, 1), hash(i, 2), … and copies the first
    // that a shingle filled. Probing only originally filled bins keeps the copies independent of
    // the order bins are densified in.
    for (let i = 0; i < k; i++) {
      if (filled[i] === 1) continue;
      for (let attempt = 1; ; attempt++) {
        const donor =
          ((fmix32(Math.imul(i + 1, 0x85ebca6b) ^ Math.imul(attempt, 0xc2b2ae35) ^ salt) >>> 16) * k) >>> 16;
        if (filled[donor] === 1) {
          out[i] = out[donor]!;
          break;
        }
      }
    }
    return out;
  }
}
