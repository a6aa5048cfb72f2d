/**
 * Which writing systems a text's letters belong to (Unicode Script property). Only letters count:
 * digits, punctuation, spaces and symbols belong to no language.
 */
export const SCRIPTS = [
  'Latin',
  'Cyrillic',
  'Greek',
  'Arabic',
  'Hebrew',
  'Devanagari',
  'Thai',
  'Han',
  'Hiragana',
  'Katakana',
  'Hangul',
  'Other',
] as const;
export type Script = (typeof SCRIPTS)[number];

/** Scripts written without spaces between words (Hangul uses spaces, but is CJK for n-grams). */
export const CJK_SCRIPTS: ReadonlySet<Script> = new Set(['Han', 'Hiragana', 'Katakana', 'Hangul']);

// One capture group per named script, in SCRIPTS order (its letters only: no combining marks or
// digits); the last catches every other letter.
const SCRIPT_RUNS = new RegExp(
  `${SCRIPTS.slice(0, -1)
    .map((s) => `([\\p{sc=${s}}&&\\p{L}]+)`)
    .join('|')}|(\\p{L}+)`,
  'gv',
);

/** Number of letters of each script in `text` (scripts with none are absent). */
export function scriptCounts(text: string): Partial<Record<Script, number>> {
  const counts: Partial<Record<Script, number>> = {};
  // Fast path: ASCII and Latin-1/Latin Extended-A/B letters are counted from their char codes; only
  // the other characters go through the Unicode-property regex.
  let latin = 0;
  let rest = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xc0) {
      if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0xaa || c === 0xba) latin++;
    } else if (c <= 0x24f) {
      if (c !== 0xd7 && c !== 0xf7) latin++;
    } else rest += text[i];
  }
  if (latin > 0) counts.Latin = latin;
  if (rest === '') return counts;
  for (const m of rest.matchAll(SCRIPT_RUNS)) {
    for (let g = 1; g < m.length; g++) {
      const run = m[g];
      if (run === undefined) continue;
      const script = SCRIPTS[g - 1];
      counts[script] = (counts[script] ?? 0) + codePointCount(run);
      break;
    }
  }
  return counts;
}

/** The script with the most letters, or undefined for a text without letters. */
export function dominantScript(text: string): Script | undefined {
  let best: Script | undefined;
  let bestCount = 0;
  for (const [script, count] of Object.entries(scriptCounts(text)) as [Script, number][]) {
    if (count > bestCount) [best, bestCount] = [script, count];
  }
  return best;
}

/** Share of letters in Han, Kana or Hangul (0 for a text without letters). */
export function cjkShare(text: string): number {
  let cjk = 0;
  let all = 0;
  for (const [script, count] of Object.entries(scriptCounts(text)) as [Script, number][]) {
    all += count;
    if (CJK_SCRIPTS.has(script)) cjk += count;
  }
  return all === 0 ? 0 : cjk / all;
}

/** True when more than half the letters are CJK: words are then not separated by spaces. */
export function isMostlyCjk(text: string): boolean {
  return cjkShare(text) > 0.5;
}

function codePointCount(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) n--;
  }
  return n;
}
