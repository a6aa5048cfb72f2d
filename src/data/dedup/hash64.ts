/**
 * 64-bit string hash for exact dedup: two MurmurHash3-style 32-bit lanes with independent seeds
 * over the UTF-16 code units, two units per block. At 64 bits the chance that any two of n distinct
 * texts collide is about n²/2^65 — 3e-6 for ten million documents. Not cryptographic.
 */
export function hash64(text: string, out: Uint32Array = new Uint32Array(2)): Uint32Array {
  return hashUnits(text, false, out);
}

/**
 * The hash64 of `text` with whitespace collapsed — runs of whitespace as one space, none at the
 * ends — computed without building that string: equal to `hash64(text.replace(/\s+/g, ' ').trim())`.
 */
export function hash64CollapsedWhitespace(text: string, out: Uint32Array = new Uint32Array(2)): Uint32Array {
  return hashUnits(text, true, out);
}

/**
 * The hash64 of an ASCII text lower-cased (`lower`) and whitespace-collapsed (`collapse`) on the
 * fly, or undefined as soon as a non-ASCII character shows that the full Unicode path is needed.
 */
export function hash64AsciiFolded(
  text: string,
  lower: boolean,
  collapse: boolean,
  out: Uint32Array = new Uint32Array(2),
): Uint32Array | undefined {
  let h1 = 0x9747b28c;
  let h2 = 0x1b873593;
  let i = 0;
  let end = text.length;
  if (collapse) {
    while (i < end && isAsciiSpace(text.charCodeAt(i))) i++;
    while (end > i && isAsciiSpace(text.charCodeAt(end - 1))) end--;
  }
  let units = 0;
  let pending = -1;
  for (; i < end; i++) {
    let c = text.charCodeAt(i);
    if (c > 32) {
      if (c >= 128) return undefined;
      if (lower && c >= 65 && c <= 90) c += 32;
    } else if (collapse && (c === 32 || (c >= 9 && c <= 13))) {
      let d = text.charCodeAt(i + 1);
      while (d === 32 || (d >= 9 && d <= 13)) d = text.charCodeAt(++i + 1);
      c = 32;
    }
    units++;
    if (pending === -1) {
      pending = c;
      continue;
    }
    const k = pending | (c << 16);
    h1 = lane(h1, k, 0xcc9e2d51, 0x1b873593);
    h2 = lane(h2, k, 0x85ebca77, 0xc2b2ae3d);
    pending = -1;
  }
  return finish(h1, h2, pending, units, out);
}

function isAsciiSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

function hashUnits(text: string, collapse: boolean, out: Uint32Array): Uint32Array {
  let h1 = 0x9747b28c;
  let h2 = 0x1b873593;
  let i = 0;
  let end = text.length;
  if (collapse) {
    while (i < end && isSpace(text.charCodeAt(i))) i++;
    while (end > i && isSpace(text.charCodeAt(end - 1))) end--;
  }
  let units = 0;
  let pending = -1; // the first unit of an unfinished pair
  for (; i < end; i++) {
    let c = text.charCodeAt(i);
    // A whitespace run (never at the ends after trimming) becomes one space.
    if (collapse && (c <= 32 || c >= 0xa0) && isSpace(c)) {
      c = 32;
      while (isSpace(text.charCodeAt(i + 1))) i++;
    }
    units++;
    if (pending === -1) {
      pending = c;
      continue;
    }
    const k = pending | (c << 16);
    h1 = lane(h1, k, 0xcc9e2d51, 0x1b873593);
    h2 = lane(h2, k, 0x85ebca77, 0xc2b2ae3d);
    pending = -1;
  }
  return finish(h1, h2, pending, units, out);
}

/** The end of hash64 (the odd last unit, the length, the finalizers), for loops that hash on the side (text-profile.ts). */
export function finish(
  h1: number,
  h2: number,
  pending: number,
  units: number,
  out: Uint32Array,
): Uint32Array {
  if (pending !== -1) {
    h1 = lane(h1, pending, 0xcc9e2d51, 0x1b873593);
    h2 = lane(h2, pending, 0x85ebca77, 0xc2b2ae3d);
  }
  h1 = fmix32(h1 ^ units);
  h2 = fmix32(h2 ^ units ^ h1);
  out[0] = h1;
  out[1] = h2;
  return out;
}

/** What `\s` matches in a JavaScript regular expression. */
export function isSpace(c: number): boolean {
  return c <= 32
    ? c === 32 || (c >= 9 && c <= 13)
    : c >= 0xa0 &&
        (c === 0xa0 ||
          c === 0x1680 ||
          (c >= 0x2000 && c <= 0x200a) ||
          c === 0x2028 ||
          c === 0x2029 ||
          c === 0x202f ||
          c === 0x205f ||
          c === 0x3000 ||
          c === 0xfeff);
}

/** The 64-bit hash as 16 hex digits (for reports and for keys that must survive JSON). */
export function hash64Hex(text: string): string {
  const [lo, hi] = hash64(text);
  return hi!.toString(16).padStart(8, '0') + lo!.toString(16).padStart(8, '0');
}

/** One MurmurHash3 block round of one lane. */
export function lane(h: number, k: number, c1: number, c2: number): number {
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
