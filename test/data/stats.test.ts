import {readFile} from 'node:fs/promises';
import {Readable} from 'node:stream';
import {describe, expect, it} from 'vitest';
import {collectStats, formatStats, runStats} from '../../src/data/stats.js';

describe('stats', () => {
  it('describes the IMDB fixture as its manifest does', async () => {
    const manifest = JSON.parse(await readFile('fixtures/manifest.json', 'utf8')).files['imdb/reviews.jsonl'];
    const r = await runStats({input: 'fixtures/imdb/reviews.jsonl'});
    expect(r.rows).toBe(manifest.rows);
    expect(r.labels?.counts).toEqual(manifest.labels);
    expect(r.labels?.klFromUniform).toBe(0);
    expect(r.duplicates.exact).toBe(manifest.exactDuplicateRows);
    expect(r.duplicates.exactRate).toBeCloseTo(manifest.exactDuplicateRows / manifest.rows, 9);
    expect(r.duplicates.normalized).toBeGreaterThanOrEqual(r.duplicates.exact);
    for (const l of [r.chars, r.words]) {
      expect(l.min).toBeLessThanOrEqual(l.p5);
      expect(l.p5).toBeLessThan(l.p50);
      expect(l.p50).toBeLessThan(l.p95);
      expect(l.p95).toBeLessThanOrEqual(l.max);
    }
    expect(r.chars.p50).toBeGreaterThan(4 * r.words.p50);
    expect(r.scripts).toEqual({letters: {Latin: 1}, rows: {Latin: 2000}});
    expect(r.englishByStopwords.english).toBeGreaterThan(1990);
  });

  it('counts duplicates exactly and after normalizing', async () => {
    const r = await collectStats(
      ['A movie.', 'A movie.', 'a  MOVIE.', 'Another one', 'ａ movie.'].map((text, i) => ({
        id: `${i}`,
        text,
        fields: {},
      })),
    );
    expect(r.duplicates).toEqual({exact: 1, exactRate: 0.2, normalized: 3, normalizedRate: 0.6});
    expect(r.labels).toBeNull();
    expect(r.unlabeledRows).toBe(5);
  });

  it('sorts rows by script, counts CJK characters as words, and guesses English only for Latin text', async () => {
    const texts = [
      'The film was long, but the ending made it worth the wait.',
      "Le film était long, mais la fin valait vraiment l'attente.",
      'Der Film war lang, aber das Ende hat sich wirklich gelohnt.',
      '这部电影很长，但是结局值得等待。',
      'Фильм был длинным, но концовка того стоила.',
      'كان الفيلم طويلا لكن النهاية كانت تستحق الانتظار',
      'Wow',
      '12345 !!!',
    ];
    const r = await collectStats(
      texts.map((text, i) => ({id: `${i}`, text, label: i % 2 ? 'a' : 'b', fields: {}})),
    );
    expect(r.scripts.rows).toEqual({Latin: 4, Han: 1, Cyrillic: 1, Arabic: 1, none: 1});
    expect(Object.keys(r.scripts.letters)).toEqual(
      expect.arrayContaining(['Latin', 'Han', 'Cyrillic', 'Arabic']),
    );
    expect(Object.values(r.scripts.letters).reduce((a, b) => a! + b!, 0)).toBeCloseTo(1, 9);
    expect(r.englishByStopwords).toMatchObject({english: 1, otherLatin: 2, tooShort: 1});
    expect(r.words.max).toBe(14); // the Chinese row: 14 characters, punctuation aside
  });

  it('reports an empty input as zeros', async () => {
    const r = await collectStats([]);
    expect(r).toMatchObject({rows: 0, emptyRows: 0, labels: null, duplicates: {exactRate: 0}});
  });

  it('counts and reports lines with bytes that are not UTF-8', async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"text":"caf'),
      Buffer.from([0xe9]),
      Buffer.from('"}\n{"text":"ok"}\n'),
    ]);
    const r = await runStats({input: Readable.from([bytes])});
    expect(r).toMatchObject({rows: 2, invalidUtf8Lines: 1, firstInvalidUtf8: 'stdin line 1'});
    expect(formatStats(r)).toMatch(
      /^encoding +1 lines with bytes that are not UTF-8 \(first: stdin line 1\)/m,
    );
  });
});
