import {describe, expect, it} from 'vitest';
import {
  type EdaContext,
  randomDeletion,
  randomInsertion,
  randomSwap,
  synonymReplacement,
} from '../../../src/data/augment/eda-ops.js';
import {detokenize, tokenize} from '../../../src/data/augment/tokens.js';
import {Rng} from '../../../src/data/rng.js';

/** A tiny synonym table, so each assertion can name exactly what may appear. */
const SYNONYMS: Record<string, string[]> = {
  movie: ['film', 'motion picture'],
  terrible: ['awful'],
  actors: ['players', 'thespians'],
  bored: ['world-weary'],
};
const ctx = (seed: number): EdaContext => ({rng: new Rng(seed), synonyms: (w) => SYNONYMS[w] ?? []});
const TEXT = 'The movie was terrible, and the actors looked bored. A movie to forget.';
const words = (text: string) =>
  tokenize(text)
    .filter((t) => t.word)
    .map((t) => t.text.toLowerCase());

describe('EDA ops', () => {
  it('synonym replacement replaces n word types, every occurrence the same way, with a listed synonym', () => {
    for (let seed = 0; seed < 50; seed++) {
      const tokens = tokenize(TEXT);
      const n = 1 + (seed % 3);
      expect(synonymReplacement(tokens, n, ctx(seed))).toBe(n);
      const out = detokenize(tokens);
      const changed = Object.keys(SYNONYMS).filter((w) => !words(out).includes(w));
      expect(changed).toHaveLength(n);
      for (const w of changed) {
        const used = SYNONYMS[w].filter((s) => out.toLowerCase().includes(s));
        expect(used.length).toBeGreaterThan(0);
      }
      if (changed.includes('movie'))
        expect(out).toMatch(/^The (film|motion picture) .* A (film|motion picture) to/);
    }
  });

  it('leaves capitalised words inside a sentence alone: they are names', () => {
    for (let seed = 0; seed < 20; seed++) {
      const tokens = tokenize('We saw Movie Magic, a terrible movie.');
      synonymReplacement(tokens, 3, ctx(seed));
      expect(detokenize(tokens)).toMatch(/^We saw Movie Magic, a awful (film|motion picture)\.$/);
    }
  });

  it('synonym replacement changes nothing when no word has a synonym', () => {
    const tokens = tokenize('Nothing here at all.');
    expect(synonymReplacement(tokens, 2, ctx(1))).toBe(0);
    expect(detokenize(tokens)).toBe('Nothing here at all.');
  });

  it('random insertion adds n synonyms and keeps every original word in order', () => {
    for (let seed = 0; seed < 50; seed++) {
      const tokens = tokenize(TEXT);
      expect(randomInsertion(tokens, 2, ctx(seed))).toBe(2);
      const out = words(detokenize(tokens));
      const rest = [...out];
      for (const w of words(TEXT)) {
        expect(rest).toContain(w);
        rest.splice(rest.indexOf(w), 1);
      }
      expect(out.length - words(TEXT).length).toBeGreaterThanOrEqual(2);
      const allowed = new Set(Object.values(SYNONYMS).flatMap((s) => s.join(' ').split(' ')));
      for (const w of rest) expect(allowed).toContain(w);
    }
  });

  it('random swap keeps the words, moves them, and fixes the sentence capital', () => {
    for (let seed = 0; seed < 50; seed++) {
      const tokens = tokenize(TEXT);
      expect(randomSwap(tokens, 1, ctx(seed))).toBe(1);
      const out = detokenize(tokens);
      expect(words(out).sort()).toEqual(words(TEXT).sort());
      expect(out).not.toBe(TEXT);
      expect(out).toMatch(/^\p{Lu}/u);
      expect(out).toMatch(/, .* [a-z][\w-]*\. \p{Lu}.*\.$/u); // punctuation stays where it was
    }
    expect(randomSwap(tokenize('Alone.'), 1, ctx(1))).toBe(0);
  });

  it('random deletion deletes at least one word and never all of them', () => {
    for (let seed = 0; seed < 200; seed++) {
      const text = ['two words', 'three small words', 'The movie was bad.'][seed % 3];
      const tokens = tokenize(text);
      const p = [0, 0.1, 0.5, 1][seed % 4];
      const deleted = randomDeletion(tokens, p, ctx(seed));
      const left = words(detokenize(tokens));
      expect(deleted).toBeGreaterThanOrEqual(1);
      expect(left.length).toBe(words(text).length - deleted);
      expect(left.length).toBeGreaterThanOrEqual(1);
    }
    const lone = tokenize('Wow!');
    expect(randomDeletion(lone, 1, ctx(1))).toBe(0);
    expect(detokenize(lone)).toBe('Wow!');
  });
});
