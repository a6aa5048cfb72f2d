/**
 * A regex character class (for the `u` flag) from a unicode-tables.ts range list: code point
 * ranges `start[-length]` in base 36, space-separated.
 */
export function charClass(ranges: string): string {
  const hex = (n: number) => `\\u{${n.toString(16)}}`;
  const parts = ranges.split(' ').map((range) => {
    const [start, length] = range.split('-').map((n) => Number.parseInt(n, 36)) as [number, number?];
    return length ? `${hex(start)}-${hex(start + length)}` : hex(start);
  });
  return `[${parts.join('')}]`;
}
