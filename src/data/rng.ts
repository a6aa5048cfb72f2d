import {fmix32} from './dedup/hash64.js';

/**
 * A small seeded pseudo-random generator for the data steps (augment, balance): same seed, same
 * sequence, on every platform. mulberry32 (Tommy Ettinger's 32-bit generator): one 32-bit state,
 * period 2^32, passes the usual statistical batteries well enough for sampling and shuffling —
 * it is not cryptographic.
 *
 * Steps that touch rows one at a time derive one generator per row from (seed, row id) with
 * `Rng.forKey`, so what happens to a row does not depend on the rows before it: reordering,
 * filtering or sharding the input leaves every other row's result unchanged.
 */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A generator for one key (a row id) under a run seed. */
  static forKey(seed: number, key: string): Rng {
    return new Rng(hash32(key, seed));
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Rng.pick: empty list');
    return items[this.int(items.length)];
  }

  /** Fisher–Yates shuffle of a copy. */
  shuffled<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }
}

/**
 * 32-bit FNV-1a over the UTF-16 code units of `text`, started from `seed`, then murmur3's fmix32
 * finaliser so that nearby keys (`doc:1`, `doc:2`) give unrelated states.
 */
export function hash32(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}
