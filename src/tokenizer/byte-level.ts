/**
 * GPT-2's byte-level alphabet, as Hugging Face's ByteLevel pre-tokenizer uses it: every byte maps to
 * one printable character (printable Latin-1 bytes to themselves, the rest to U+0100 onwards), so a
 * byte-level BPE vocabulary is plain strings and covers any input, CJK and emoji included.
 */
const BYTE_TO_CHAR: readonly string[] = (() => {
  const out: string[] = new Array(256);
  const printable = (b: number) =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let next = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCharCode(printable(b) ? b : 256 + next++);
  return out;
})();

const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

/** The character that stands for byte `b` (0..255). */
export function byteChar(b: number): string {
  return BYTE_TO_CHAR[b]!;
}

/** The byte a byte-level character stands for, or undefined for any other character. */
export function charByte(c: string): number | undefined {
  return CHAR_TO_BYTE.get(c);
}
