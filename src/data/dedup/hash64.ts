/**
 * 64-bit string hash for exact dedup: two MurmurHash3-style 32-bit lanes with independent seeds
 * over the UTF-16 code units, two units per block. At 64 bits the chance that any two of n distinct
 * texts collide is about n²/2^65 — 3e-6 for ten million documents. Not cryptographic.
 */
export function hash64(text: string, out: Uint32Array = new Uint32Array(2)): Uint32Array {
  let h1 = 0x9747b28c;
  let h2 = 0x1b873593 ^ text.length;
  const n = text.length & ~1;
  let i = 0;
  for (; i < n; i += 2) {
    const k = text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16);
    h1 = lane(h1, k, 0xcc9e2d51, 0x1b873593);
    h2 = lane(h2, k, 0x85ebca77, 0xc2b2ae3d);
  }
  if (i < text.length) {
    const k = text.charCodeAt(i);
    h1 = lane(h1, k, 0xcc9e2d51, 0x1b873593);
    h2 = lane(h2, k, 0x85ebca77, 0xc2b2ae3d);
  }
  h1 = fmix32(h1 ^ text.length);
  h2 = fmix32(h2 ^ h1);
  out[0] = h1;
  out[1] = h2;
  return out;
}

/** The 64-bit hash as 16 hex digits (for reports and for keys that must survive JSON). */
export function hash64Hex(text: string): string {
  const [lo, hi] = hash64(text);
  return hi!.toString(16).padStart(8, '0') + lo!.toString(16).padStart(8, '0');
}

function lane(h: number, k: number, c1: number, c2: number): number {
  k = Math.imul(k, c1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, c2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** MurmurHash3's finalizer: every input bit affects every output bit. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
