import {describe, expect, it} from 'vitest';
import '../../../src/data/filters/filter-config.js'; // the rule modules register their word tables
import {DEFAULT_NORMALIZE, normalizedHash64} from '../../../src/data/dedup/normalize.js';
import {isNonAsciiSymbol, profileText} from '../../../src/data/filters/text-profile.js';
import {fixtureDocs} from '../fixture-docs.js';
import {seeded} from '../near-copies.js';

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

  // The profile's loop takes runs of ASCII letters in an inner loop of their own and counts what
  // non_text, mojibake and symbol_ratio used to scan for: each count equals its plain definition.
  it('counts letters, pairs and special characters as a plain per-character loop does', () => {
    const rand = seeded(15);
    const alphabet =
      'aAbZz qQ.,;:!?"()\u201c\u201d|>/-\u2013\u2014\u2022\n\t@www.0123456789+=_\u00e9\u00c3\u00a9\u6f22\ud83d\ude00<\\%$\u0000\u0007\u007f\u0085\ufffd\uffff';
    const texts = [
      ...fixtureDocs('fixtures/imdb/reviews.jsonl').map((d) => d.text),
      ...fixtureDocs('fixtures/spam/emails.jsonl').map((d) => d.text),
    ];
    for (let k = 0; k < 3000; k++) {
      let s = '';
      for (let n = Math.floor(rand() * 40); n > 0; n--) s += alphabet[Math.floor(rand() * alphabet.length)];
      texts.push(s);
    }
    for (const text of texts) {
      const p = profileText(text);
      const plain = {letterPairs: 0, textChars: 0, controlChars: 0, mojibakeStarts: 0, longestBlobRun: 0};
      let blob = 0;
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        const letter = c < 128 && /[A-Za-z]/.test(text[i]!);
        if (letter && i > 0 && /[A-Za-z]/.test(text[i - 1]!)) plain.letterPairs++;
        if (c > 32 && (c < 128 ? /[A-Za-z0-9]/.test(text[i]!) : !isNonAsciiSymbol(c))) plain.textChars++;
        if ((c < 32 && (c < 9 || c > 13)) || (c >= 127 && c <= 159) || c >= 0xfffd) plain.controlChars++;
        if ((c >= 0xc2 && c <= 0xf4) || c === 0xfffd) plain.mojibakeStarts++;
        blob = c < 128 && /[A-Za-z0-9+/=_-]/.test(text[i]!) ? blob + 1 : 0;
        plain.longestBlobRun = Math.max(plain.longestBlobRun, blob);
      }
      // Lines (with a letter, digit or non-ASCII character) and repeats, spacing and ASCII case aside.
      const seen = new Set<string>();
      let lines = 0;
      let repeats = 0;
      for (const line of text.split('\n')) {
        if (![...line].some((ch) => /[A-Za-z0-9]/.test(ch) || ch.charCodeAt(0) > 127)) continue;
        lines++;
        const key = [...line]
          .filter((ch) => ch.charCodeAt(0) > 32)
          .join('')
          .replace(/[A-Z]/g, (ch) => ch.toLowerCase());
        if (seen.has(key)) repeats++;
        seen.add(key);
      }
      if (p.newlines >= 3) {
        expect(p.lines).toBe(lines);
        expect(p.lineRepeatsAtMost).toBeGreaterThanOrEqual(repeats);
      }
      expect({
        letterPairs: p.letterPairs,
        textChars: p.textChars,
        controlChars: p.controlChars,
        mojibakeStarts: p.mojibakeStarts,
        longestBlobRun: p.longestBlobRun,
      }).toEqual(plain);
    }
  });

  // Exact dedup takes the profile's hash instead of reading the text again: it must be the very
  // hash exact dedup computes itself, for every ASCII text (spacing at the ends, runs of whitespace,
  // control characters, upper case), and absent for any other.
  it('hashes ASCII text as exact dedup normalizes it, and leaves other text to the full path', () => {
    const rand = seeded(16);
    const alphabet = 'aAbZz  \t\n\r\u000b\u000c.,!0\u0000\u0001\u001f\u007f@[`{~';
    const texts = [
      ...fixtureDocs('fixtures/imdb/reviews.jsonl').map((d) => d.text),
      ...fixtureDocs('fixtures/reuters/news.jsonl').map((d) => d.text),
      '',
      '   ',
      '  Great\t\tMOVIE \n',
      'caf\u00e9',
      'A\u00a0b',
    ];
    for (let k = 0; k < 3000; k++) {
      let s = '';
      for (let n = Math.floor(rand() * 30); n > 0; n--) s += alphabet[Math.floor(rand() * alphabet.length)];
      texts.push(s);
    }
    let ascii = 0;
    for (const text of texts) {
      const folded = profileText(text).foldedHash;
      if ([...text].some((ch) => ch.charCodeAt(0) > 127)) {
        expect(folded).toBeUndefined();
        continue;
      }
      ascii++;
      expect([...folded!]).toEqual([...normalizedHash64(text, DEFAULT_NORMALIZE)]);
    }
    expect(ascii).toBeGreaterThan(3000);
  });
});
