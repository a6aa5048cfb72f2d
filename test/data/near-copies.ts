import {charShingleJaccard} from '../../src/data/dedup/char-shingles.js';

/** A small deterministic generator (mulberry32) so copies are the same on every run. */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FILLER = ['really', 'quite', 'very', 'truly', 'just', 'also', 'still', 'even', 'rather', 'simply'];

/**
 * A near copy of `text`: `max(1, round(rate · words))` word edits (replace, insert or delete a
 * word) at random places, plus invisible-to-shingling noise (case of the first letter, doubled
 * spaces). Each edit changes the character 5-grams that overlap it (about a word's length + 4).
 */
export function nearCopy(text: string, rate: number, rand: () => number): string {
  const words = text.split(' ');
  const edits = Math.max(1, Math.round(rate * words.length));
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(rand() * words.length);
    const op = rand();
    const word = FILLER[Math.floor(rand() * FILLER.length)]!;
    if (op < 0.4) words[at] = word;
    else if (op < 0.8) words.splice(at, 0, word);
    else if (words.length > 1) words.splice(at, 1);
  }
  let out = words.join(' ');
  if (rand() < 0.5) out = out.replace(/\. /, '.  ');
  if (rand() < 0.5) out = out.charAt(0).toLowerCase() + out.slice(1);
  return out;
}

/** Jaccard similarity of the shingle sets `clean`'s near dedup uses (character 5-grams). */
export function shingleJaccard(a: string, b: string): number {
  return charShingleJaccard(a, b);
}
