/**
 * Open-addressing hash tables on typed arrays for dedup state: a few bytes per entry instead of
 * the ~50–80 a JS Map spends, and nothing for the garbage collector to trace.
 */

/** 32-bit key → several int values (an LSH band bucket → the documents in it). */
export class IntMultiMap {
  private keys: Int32Array;
  /** Index of the first entry of each slot's chain; -1: empty slot. */
  private heads: Int32Array;
  private values = new Int32Array(1024);
  private next = new Int32Array(1024);
  private slots = 0;
  size = 0;

  constructor(capacity = 1024) {
    this.keys = new Int32Array(capacity);
    this.heads = new Int32Array(capacity).fill(-1);
  }

  /** Calls `visit` with each value stored under `key`. */
  forEach(key: number, visit: (value: number) => void): void {
    const mask = this.keys.length - 1;
    for (let s = mix(key) & mask; this.heads[s] !== -1; s = (s + 1) & mask) {
      if (this.keys[s] !== key) continue;
      for (let e = this.heads[s]!; e !== -1; e = this.next[e]!) visit(this.values[e]!);
      return;
    }
  }

  add(key: number, value: number): void {
    if ((this.slots + 1) * 2 > this.keys.length) this.rehash(this.keys.length * 2);
    if (this.size === this.values.length) {
      this.values = grown(this.values);
      this.next = grown(this.next);
    }
    const e = this.size++;
    this.values[e] = value;
    const mask = this.keys.length - 1;
    let s = mix(key) & mask;
    for (; this.heads[s] !== -1; s = (s + 1) & mask) {
      if (this.keys[s] === key) {
        this.next[e] = this.heads[s]!;
        this.heads[s] = e;
        return;
      }
    }
    this.keys[s] = key;
    this.heads[s] = e;
    this.next[e] = -1;
    this.slots++;
  }

  get bytes(): number {
    return this.keys.byteLength + this.heads.byteLength + this.values.byteLength + this.next.byteLength;
  }

  private rehash(capacity: number): void {
    const {keys, heads} = this;
    this.keys = new Int32Array(capacity);
    this.heads = new Int32Array(capacity).fill(-1);
    const mask = capacity - 1;
    for (let old = 0; old < keys.length; old++) {
      if (heads[old] === -1) continue;
      let s = mix(keys[old]!) & mask;
      while (this.heads[s] !== -1) s = (s + 1) & mask;
      this.keys[s] = keys[old]!;
      this.heads[s] = heads[old]!;
    }
  }
}

/** 64-bit key (two int32 halves) → one int value (a normalized-text hash → the kept document). */
export class Int64Map {
  private hi: Int32Array;
  private lo: Int32Array;
  /** value + 1; 0: empty slot. */
  private values: Int32Array;
  size = 0;

  constructor(capacity = 1024) {
    this.hi = new Int32Array(capacity);
    this.lo = new Int32Array(capacity);
    this.values = new Int32Array(capacity);
  }

  /** The value under (hi, lo), or -1. */
  get(hi: number, lo: number): number {
    const mask = this.values.length - 1;
    for (let s = mix(lo ^ hi) & mask; this.values[s] !== 0; s = (s + 1) & mask) {
      if (this.lo[s] === lo && this.hi[s] === hi) return this.values[s]! - 1;
    }
    return -1;
  }

  /** Stores value (>= 0) under a key that is not yet present. */
  set(hi: number, lo: number, value: number): void {
    if ((this.size + 1) * 2 > this.values.length) this.rehash(this.values.length * 2);
    const mask = this.values.length - 1;
    let s = mix(lo ^ hi) & mask;
    while (this.values[s] !== 0) s = (s + 1) & mask;
    this.hi[s] = hi;
    this.lo[s] = lo;
    this.values[s] = value + 1;
    this.size++;
  }

  get bytes(): number {
    return this.hi.byteLength + this.lo.byteLength + this.values.byteLength;
  }

  private rehash(capacity: number): void {
    const {hi, lo, values} = this;
    this.hi = new Int32Array(capacity);
    this.lo = new Int32Array(capacity);
    this.values = new Int32Array(capacity);
    const mask = capacity - 1;
    for (let old = 0; old < values.length; old++) {
      if (values[old] === 0) continue;
      let s = mix(lo[old]! ^ hi[old]!) & mask;
      while (this.values[s] !== 0) s = (s + 1) & mask;
      this.hi[s] = hi[old]!;
      this.lo[s] = lo[old]!;
      this.values[s] = values[old]!;
    }
  }
}

function mix(k: number): number {
  k = Math.imul(k ^ (k >>> 16), 0x45d9f3b);
  return k ^ (k >>> 16);
}

function grown(a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}
