import {describe, expect, it} from 'vitest';
import '../../../src/data/filters/filter-config.js'; // the rule modules register their word tables
import {profileText} from '../../../src/data/filters/text-profile.js';

describe('text profile (one pass shared by the junk rules)', () => {
  it('counts what the rules bound themselves with', () => {
    const p = profileText('Home | About Us | Contact\nThe of the cat sat. aGVsbG8gd29ybGQgaGVsbG8= 12,5%');
    expect(p.newlines).toBe(1);
    expect(p.separators).toBe(2);
    expect(p.navSegments).toBe(3); // Home, About Us, Contact; the second line is not navigation
    expect(p.functionPairs).toBe(3); // "About Us", "The of", "of the"; "sat." ends with punctuation
    expect(p.rareFunctionPairs).toBe(1); // "the of"
    expect(p.longestBlobRun).toBe(24);
    expect(p.numberChars).toBeGreaterThanOrEqual(5);
    expect(p.nonSpace).toBe('Home|AboutUs|ContactTheofthecatsat.aGVsbG8gd29ybGQgaGVsbG8=12,5%'.length);
  });

  it('bounds repeated 3-grams and lines from above', () => {
    const phrase = profileText('buy now buy now buy now buy now buy now buy now');
    expect(phrase.trigramRepeatsAtMost).toBeGreaterThanOrEqual(phrase.trigrams - 2);
    const lines = profileText('same line\nSame  line\nsame line\nother');
    expect(lines.lines).toBe(4);
    expect(lines.lineRepeatsAtMost).toBeGreaterThanOrEqual(2);
  });
});
