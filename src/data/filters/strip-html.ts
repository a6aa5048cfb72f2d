/**
 * Markup left in scraped text (`<br />`, `<p>`, `&amp;`) turned back into plain text: line-break
 * and block tags become newlines, other tags go, common entities are decoded. A text fix for
 * `clean --strip-html`, not a parser: it is for text with stray tags, not for whole HTML pages.
 */
const BREAK_TAGS = /<\s*(?:br|\/?p|\/?div|\/?li|\/?h[1-6]|\/?tr)\b[^>]*>/gi;
const TAG = /<\/?[a-z][a-z0-9-]*(?:\s[^<>]*)?\/?>/gi;
const ENTITY = /&(#x[0-9a-f]+|#\d+|[a-z]+);/gi;
const NAMED: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  ndash: '–',
  mdash: '—',
  hellip: '…',
  lsquo: '‘',
  rsquo: '’',
  ldquo: '“',
  rdquo: '”',
};

export function stripHtml(text: string): string {
  if (!text.includes('<') && !text.includes('&')) return text;
  return text
    .replace(BREAK_TAGS, '\n')
    .replace(TAG, '')
    .replace(ENTITY, (whole, name: string) => {
      if (name[0] === '#') {
        const code =
          name[1] === 'x' || name[1] === 'X' ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1));
        return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
      }
      return NAMED[name.toLowerCase()] ?? whole;
    })
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
