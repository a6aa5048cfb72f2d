import type {Rng} from '../rng.js';
import type {Token} from './tokens.js';

/** Neighbours of each letter on a QWERTY keyboard (same row and the rows above and below). */
const QWERTY_ROWS = ['qwertyuiop', 'asdfghjkl', 'zxcvbnm'];
const NEIGHBOURS: ReadonlyMap<string, string> = (() => {
  const map = new Map<string, string>();
  QWERTY_ROWS.forEach((row, r) => {
    for (let c = 0; c < row.length; c++) {
      let near = (row[c - 1] ?? '') + (row[c + 1] ?? '');
      // Rows are staggered: key c touches c and c+1 of the row above, c-1 and c of the row below.
      for (const [dr, cols] of [
        [-1, [c, c + 1]],
        [1, [c - 1, c]],
      ] as const) {
        for (const cc of cols) near += QWERTY_ROWS[r + dr]?.[cc] ?? '';
      }
      map.set(row[c], near);
    }
  });
  return map;
})();

/** The kinds of typo made, in the proportions people make them roughly. */
export type TypoKind = 'neighbour' | 'drop' | 'transpose' | 'double';
const KINDS: readonly TypoKind[] = ['neighbour', 'neighbour', 'drop', 'transpose', 'double'];

/**
 * Character noise: n random words of three or more letters each get one typo — a letter replaced
 * by a keyboard neighbour, dropped, swapped with the next one, or doubled. The first letter is
 * left alone (readers and spell checkers rely on it most). Returns the number of words changed.
 */
export function typoNoise(tokens: Token[], n: number, rng: Rng): number {
  const words = tokens.filter((t) => t.word && /^[A-Za-z]{3,}$/.test(t.text));
  let changed = 0;
  for (const token of rng.shuffled(words).slice(0, n)) {
    token.text = typo(token.text, rng.pick(KINDS), rng);
    changed++;
  }
  return changed;
}

/** One typo of `kind` at a random position after the first letter of an ASCII word (2+ letters). */
export function typo(word: string, kind: TypoKind, rng: Rng): string {
  const i = 1 + rng.int(word.length - 1);
  switch (kind) {
    case 'neighbour': {
      const lower = word[i].toLowerCase();
      const near = rng.pick([...(NEIGHBOURS.get(lower) ?? lower)]);
      return word.slice(0, i) + (word[i] === lower ? near : near.toUpperCase()) + word.slice(i + 1);
    }
    case 'drop':
      return word.slice(0, i) + word.slice(i + 1);
    case 'transpose': {
      // Swap two different neighbouring letters after the first, so the word really changes.
      const places = [...word.slice(1, -1)].flatMap((c, k) => (c === word[k + 2] ? [] : [k + 1]));
      if (places.length === 0) return typo(word, 'neighbour', rng);
      const j = rng.pick(places);
      return word.slice(0, j) + word[j + 1] + word[j] + word.slice(j + 2);
    }
    case 'double':
      return word.slice(0, i + 1) + word.slice(i);
  }
}
