/** Every Unicode scalar value (code points less the surrogates). */
export const ALL_CODE_POINTS = Array.from({length: 0x110000}, (_, cp) => cp).filter(
  (cp) => cp < 0xd800 || cp > 0xdfff,
);

/** `points` in chunks of 4,096, each a string of `context(char)` for its characters. */
export function codePointChunks(points: readonly number[], context: (c: string) => string): string[][] {
  const chunks: string[][] = [];
  for (let i = 0; i < points.length; i += 4096) {
    chunks.push(points.slice(i, i + 4096).map((cp) => context(String.fromCodePoint(cp))));
  }
  return chunks;
}
