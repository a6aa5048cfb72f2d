import {describe, expect, it} from 'vitest';
import {tokenize} from '../../../src/data/augment/tokens.js';
import {typo, typoNoise} from '../../../src/data/augment/typo.js';
import {Rng} from '../../../src/data/rng.js';

const NEAR: Record<string, string> = {q: 'wa', g: 'fhtybv', m: 'nkj', p: 'ol'};

describe('typo', () => {
  it('keeps the first letter and makes one edit of the asked kind', () => {
    const rng = new Rng(7);
    const diffs = (a: string, b: string) => [...a].flatMap((c, k) => (b[k] === c ? [] : [k]));
    for (let i = 0; i < 200; i++) {
      const word = rng.pick(['keyboard', 'Movie', 'dreadful', 'gym', 'all']);
      const neighbour = typo(word, 'neighbour', rng);
      expect(neighbour).toHaveLength(word.length);
      expect(diffs(word, neighbour)).toHaveLength(1);
      expect(diffs(word, neighbour)[0]).toBeGreaterThan(0);
      const dropped = typo(word, 'drop', rng);
      const at = [...word].findIndex((c, k) => dropped[k] !== c);
      expect(at).toBeGreaterThan(0);
      expect(word.slice(0, at) + word.slice(at + 1)).toBe(dropped);
      const doubled = typo(word, 'double', rng);
      expect(doubled).toHaveLength(word.length + 1);
      expect(doubled[0]).toBe(word[0]);
      const swapped = typo(word, word === 'all' ? 'neighbour' : 'transpose', rng);
      if (word === 'all') {
        // Nothing to swap after the first letter: a neighbour typo instead.
        expect(diffs(word, typo(word, 'transpose', rng))).toHaveLength(1);
        continue;
      }
      const [a, b] = diffs(word, swapped);
      expect(diffs(word, swapped)).toHaveLength(2);
      expect([a > 0, b - a, swapped[a], swapped[b]]).toEqual([true, 1, word[b], word[a]]);
    }
  });

  it('replaces a letter only by a keyboard neighbour, in the same case', () => {
    const rng = new Rng(1);
    for (const [letter, near] of Object.entries(NEAR)) {
      for (let i = 0; i < 30; i++) {
        const out = typo(`x${letter}`, 'neighbour', rng);
        expect(near).toContain(out[1]);
        expect(typo(`X${letter.toUpperCase()}`, 'neighbour', rng)[1]).toMatch(/[A-Z]/);
      }
    }
  });

  it('changes n words of three or more ASCII letters, and nothing else', () => {
    const text = 'An excellent film, it is — 10/10 naïve fun for everyone';
    const tokens = tokenize(text);
    const before = tokens.map((t) => t.text);
    expect(typoNoise(tokens, 2, new Rng(3))).toBe(2);
    const changed = tokens
      .filter((t, i) => t.text !== before[i])
      .map((t, i) => before[tokens.indexOf(t)] ?? i);
    expect(changed).toHaveLength(2);
    for (const word of changed) expect(['excellent', 'film', 'fun', 'for', 'everyone']).toContain(word);
  });
});
