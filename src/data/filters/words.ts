/**
 * Words as the quality rules count them: runs of letters, digits and marks (with inner apostrophes
 * and hyphens: `don't`, `well-known`), punctuation and symbols excluded, and each Han, Hiragana or
 * Katakana character one word — CJK text has no spaces between words, and counting characters is
 * how rule thresholds carry over to it. Hangul is written with spaces, so it counts by words.
 */
const WORD =
  /[\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}]|[^\s\p{P}\p{S}\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}]+(?:['’-][^\s\p{P}\p{S}\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}]+)*/gu;

export function words(text: string): string[] {
  return text.match(WORD) ?? [];
}

export function countWords(text: string): number {
  let n = 0;
  WORD.lastIndex = 0;
  while (WORD.exec(text) !== null) n++;
  return n;
}

/** Lines as Python's `str.splitlines` gives them for LF / CRLF text. */
export function lines(text: string): string[] {
  const out = text.split(/\r?\n/);
  if (out.length > 1 && out[out.length - 1] === '') out.pop();
  return out;
}
