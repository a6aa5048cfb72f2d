import {describe, expect, it} from 'vitest';
import {
  detokenize,
  insertTokens,
  matchCase,
  removeTokens,
  swapWords,
  tokenize,
  wordToken,
} from '../../../src/data/augment/tokens.js';

const TEXTS = [
  'The movie was terrible, and the actors looked bored. I want my two hours back!',
  '  leading and trailing space  \n',
  'Line one.\nLine two...\n\nParagraph (with brackets) and "quotes".',
  'A great film.<br /><br />See https://example.com/x?y=1. Or mail me@example.org!',
  "Don't over-think it — it’s well-known: 3.5/10, 100% rubbish…",
  '这部电影非常好看，演员的表演很精彩。',
  'Mixed: AI模型 works.',
  '',
];

describe('tokenize / detokenize', () => {
  it.each(TEXTS)('round-trips %j exactly', (text) => {
    expect(detokenize(tokenize(text))).toBe(text);
  });

  it('keeps markup, URLs and e-mail addresses whole and out of the words', () => {
    const tokens = tokenize(TEXTS[3]);
    const pieces = tokens.filter((t) => !t.word).map((t) => t.text);
    expect(pieces).toEqual(expect.arrayContaining(['<br />', 'https://example.com/x?y=1', 'me@example.org']));
    expect(tokens.filter((t) => t.word).map((t) => t.text)).toEqual([
      'A',
      'great',
      'film',
      'See',
      'Or',
      'mail',
    ]);
  });

  it('makes each CJK character a word and keeps contractions and hyphenated words whole', () => {
    expect(tokenize('好看').map((t) => t.text)).toEqual(['好', '看']);
    expect(tokenize('AI模型').map((t) => [t.text, t.word])).toEqual([
      ['AI', true],
      ['模', true],
      ['型', true],
    ]);
    const words = tokenize(TEXTS[4]).filter((t) => t.word);
    expect(words.map((t) => t.text)).toEqual(
      expect.arrayContaining(["Don't", 'over-think', 'it’s', 'well-known']),
    );
  });

  it('marks capitalised words inside a sentence as names', () => {
    const names = tokenize('The film stars Ice Cube. Great film')
      .filter((t) => t.name)
      .map((t) => t.text);
    expect(names).toEqual(['Ice', 'Cube']);
  });

  it('keeps a lower-case sentence opener in lower case', () => {
    expect(detokenize(tokenize('Wait... and then it ended.'))).toBe('Wait... and then it ended.');
  });

  it('marks sentence capitals only at sentence starts, never for I or acronyms', () => {
    const caps = tokenize('The cat. NASA saw It. I know Bob')
      .filter((t) => t.sentenceCap)
      .map((t) => t.text);
    expect(caps).toEqual(['The']);
  });

  it('re-cases a sentence opener that moved and the word that replaced it', () => {
    const tokens = tokenize('The cat sat. Dogs bark.');
    const [the, , sat] = tokens.filter((t) => t.word);
    swapWords(the, sat);
    expect(detokenize(tokens)).toBe('Sat cat the. Dogs bark.');
  });

  it('leaves the case of an all-lower-case text alone', () => {
    const tokens = tokenize('the cat sat');
    removeTokens(tokens, new Set([0]));
    expect(detokenize(tokens)).toBe('cat sat');
  });

  it('removes and inserts words without doubling or losing spaces', () => {
    const tokens = tokenize('(very good) movie');
    removeTokens(tokens, new Set([1]));
    expect(detokenize(tokens)).toBe('(good) movie');
    insertTokens(tokens, new Map([[0, [wordToken('a')]]]));
    expect(detokenize(tokens)).toBe('a (good) movie');
    const lines = tokenize('one\ntwo three');
    removeTokens(lines, new Set([1]));
    expect(detokenize(lines)).toBe('one\nthree'); // the line break outlives the word after it
  });

  it('matches the case of the replaced word', () => {
    expect(matchCase('movie', 'film')).toBe('film');
    expect(matchCase('Movie', 'motion picture')).toBe('Motion picture');
    expect(matchCase('MOVIE', 'motion picture')).toBe('MOTION PICTURE');
    expect(matchCase('A', 'one')).toBe('One');
  });
});
