import {fmix32} from './hash64.js';

/**
 * MinHash (Broder 1997): for each of `numPerm` hash functions, the smallest hash over a document's
 * shingles. Two documents agree at one position with probability equal to the Jaccard similarity
 * of their shingle sets, so the share of equal positions estimates it.
 *
 * The hash functions are h_i(x) = (a_i·x + b_i) mod 2^32 with odd a_i — a random permutation of
 * the 32-bit shingle hashes (already well mixed), computed with Math.imul on typed arrays.
 */
export class MinHasher {
  private readonly a: Int32Array;
  private readonly b: Int32Array;

  constructor(
    readonly numPerm = 128,
    seed = 1,
  ) {
    this.a = new Int32Array(numPerm);
    this.b = new Int32Array(numPerm);
    // Coefficients from a counter through the Murmur finalizer: fixed for a seed, on every platform.
    for (let i = 0; i < numPerm; i++) {
      this.a[i] = fmix32(Math.imul(seed, 0x9e3779b1) + 2 * i) | 1;
      // + 2^31 (mod 2^32): see `signature`.
      this.b[i] = (fmix32(Math.imul(seed ^ 0x5bd1e995, 0x85ebca6b) + 2 * i + 1) + 0x80000000) | 0;
    }
  }

  /**
   * Writes the signature of `shingles[0..count)` into `out` (length numPerm); all 0x7fffffff when
   * empty. Values are the hashes offset by 2^31 so that a signed int32 comparison orders them as
   * unsigned — the loop then stays in small integers, with no conversion to doubles.
   */
  signature(shingles: Uint32Array | Int32Array, count: number, out: Int32Array): Int32Array {
    const {a, b, numPerm} = this;
    let i = 0;
    // Four permutations per pass over the shingles: each shingle is loaded once for four minima.
    for (; i + 4 <= numPerm; i += 4) {
      const a0 = a[i]!,
        a1 = a[i + 1]!,
        a2 = a[i + 2]!,
        a3 = a[i + 3]!;
      const b0 = b[i]!,
        b1 = b[i + 1]!,
        b2 = b[i + 2]!,
        b3 = b[i + 3]!;
      let m0 = 0x7fffffff,
        m1 = 0x7fffffff,
        m2 = 0x7fffffff,
        m3 = 0x7fffffff;
      for (let j = 0; j < count; j++) {
        const x = shingles[j]!;
        const h0 = (Math.imul(a0, x) + b0) | 0;
        const h1 = (Math.imul(a1, x) + b1) | 0;
        const h2 = (Math.imul(a2, x) + b2) | 0;
        const h3 = (Math.imul(a3, x) + b3) | 0;
        if (h0 < m0) m0 = h0;
        if (h1 < m1) m1 = h1;
        if (h2 < m2) m2 = h2;
        if (h3 < m3) m3 = h3;
      }
      out[i] = m0;
      out[i + 1] = m1;
      out[i + 2] = m2;
      out[i + 3] = m3;
    }
    for (; i < numPerm; i++) {
      const ai = a[i]!;
      const bi = b[i]!;
      let min = 0x7fffffff;
      for (let j = 0; j < count; j++) {
        const h = (Math.imul(ai, shingles[j]!) + bi) | 0;
        if (h < min) min = h;
      }
      out[i] = min;
    }
    return out;
  }
}

/** Share of equal positions of two signatures: the MinHash estimate of Jaccard similarity. */
export function estimateJaccard(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let same = 0;
  for (let i = 0; i < x.length; i++) if (x[i] === y[i]) same++;
  return same / x.length;
}
