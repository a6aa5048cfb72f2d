import {describe, expect, it} from 'vitest';
import {charShingleJaccard} from '../../../src/data/dedup/char-shingles.js';
import {DedupStep} from '../../../src/data/dedup/dedup-step.js';
import {NearDedup} from '../../../src/data/dedup/near-dedup.js';
import type {Doc} from '../../../src/data/doc.js';
import {fixtureDocs} from '../fixture-docs.js';
import {nearCopy, seeded} from '../near-copies.js';

/** The fixture reviews with a near copy of every review of >= 100 words injected somewhere after it. */
function withNearCopies(
  rate: number,
  seed = 7,
): {docs: Doc[]; copies: Map<string, string>; jaccards: number[]} {
  const rand = seeded(seed);
  const base = fixtureDocs();
  const docs: Doc[] = [...base];
  const copies = new Map<string, string>(); // copy id → source id
  const jaccards: number[] = [];
  for (const source of base) {
    if (source.text.split(' ').length < 100) continue;
    const text = nearCopy(source.text, rate, rand);
    const id = `${source.id}~near`;
    copies.set(id, source.id);
    jaccards.push(charShingleJaccard(source.text, text));
    const after = docs.indexOf(source) + 1;
    docs.splice(after + Math.floor(rand() * (docs.length - after + 1)), 0, {...source, id, text});
  }
  return {docs, copies, jaccards};
}

function run(docs: Doc[], step: DedupStep): Map<string, {reason: string; of: string}> {
  const removed = new Map<string, {reason: string; of: string}>();
  for (const doc of docs) {
    const v = step.apply(doc);
    if (!v.keep) removed.set(doc.id, {reason: v.reason, of: v.detail!});
  }
  step.close();
  return removed;
}

describe('near dedup (character 5-gram Jaccard, MinHash LSH candidates checked exactly)', () => {
  it('finds injected near copies (5% word edits) and removes only what is within the threshold', () => {
    const {docs, copies, jaccards} = withNearCopies(0.05);
    expect(copies.size).toBeGreaterThan(300);
    expect(Math.min(...jaccards)).toBeGreaterThan(0.7);
    const step = new DedupStep({mode: 'both'});
    const report = () => step.report();
    const removed = run(docs, step);
    const found = [...copies.keys()].filter((id) => removed.get(id)?.reason === 'near_duplicate');
    expect(found.length / copies.size).toBeGreaterThanOrEqual(0.95);
    // Every removal is exact: the removed text is within the threshold of the kept one it names.
    const text = new Map(docs.map((d) => [d.id, d.text]));
    for (const [id, {reason, of}] of removed) {
      if (reason === 'near_duplicate')
        expect(charShingleJaccard(text.get(id)!, text.get(of)!)).toBeGreaterThanOrEqual(0.7);
    }
    // Originals removed are only the fixture's own 25 exact duplicates and 7 near ones: its 6
    // pairs that differ in markup and spacing, and a reposted review with words changed (J = 0.81).
    const originals = [...removed.keys()].filter((id) => !copies.has(id));
    expect(originals).toHaveLength(32);
    expect(originals.filter((id) => removed.get(id)!.reason === 'exact_duplicate')).toHaveLength(25);
    expect(report().near).toMatchObject({bands: 20, rows: 6, threshold: 0.7, numPerm: 128});
  });

  it('finds a one-word edit in a ten-word text, and not a different ten-word text', () => {
    const near = new NearDedup();
    const a = 'The acting was wooden but the soundtrack saved the film.';
    const b = 'The acting was wooden but the soundtrack rescued the film.';
    const c = 'The plot was thin but the soundtrack saved the evening.';
    expect(charShingleJaccard(a, b)).toBeGreaterThan(0.7);
    expect(charShingleJaccard(a, c)).toBeLessThan(0.7);
    expect(near.check(a, 0)).toBeUndefined();
    expect(near.check(c, 1)).toBeUndefined();
    expect(near.check(b, 2)).toMatchObject({key: 0});
    expect(near.check('the acting was WOODEN, but the soundtrack saved the film!!', 3)).toMatchObject({
      key: 0,
      similarity: 1,
    });
    near.close();
  });

  it('verifies against the kept document: a chain A ~ B ~ C with A !~ C keeps C', () => {
    const words = fixtureDocs()
      .map((d) => d.text)
      .join(' ')
      .split(' ')
      .slice(0, 1000);
    const edit = (ws: string[], from: number, every: number) =>
      ws.map((w, i) => (i >= from && (i - from) % every === 0 ? `${w}zz` : w));
    const a = words;
    const b = edit(a, 0, 6); // an edit every sixth word
    const c = edit(b, 3, 6); // as many more, between B's
    const [A, B, C] = [a, b, c].map((ws) => ws.join(' '));
    expect(charShingleJaccard(A!, B!)).toBeGreaterThan(0.7);
    expect(charShingleJaccard(B!, C!)).toBeGreaterThan(0.7);
    expect(charShingleJaccard(A!, C!)).toBeLessThan(0.64);
    const near = new NearDedup({threshold: 0.65});
    expect(near.check(A!, 0)).toBeUndefined();
    expect(near.check(B!, 1)).toMatchObject({key: 0});
    // C is compared with A, the kept document, never with the removed B: it stays.
    expect(near.check(C!, 2)).toBeUndefined();
    expect(near.size).toBe(2);
    near.close();
  });

  it('shingles CJK text by characters: a one-character edit is found, another text is not', () => {
    const tao =
      '道可道，非常道。名可名，非常名。无名天地之始；有名万物之母。故常无欲，以观其妙；常有欲，以观其徼。此两者，同出而异名，同谓之玄。玄之又玄，众妙之门。' +
      '天下皆知美之为美，斯恶已。皆知善之为善，斯不善已。故有无相生，难易相成，长短相形，高下相倾，音声相和，前后相随。是以圣人处无为之事，行不言之教。';
    const other =
      '不尚贤，使民不争；不贵难得之货，使民不为盗；不见可欲，使民心不乱。是以圣人之治，虚其心，实其腹，弱其志，强其骨。常使民无知无欲。使夫智者不敢为也。为无为，则无不治。';
    const near = new NearDedup();
    expect(near.check(tao, 0)).toBeUndefined();
    expect(near.check(other, 1)).toBeUndefined();
    expect(near.check(tao.replace('美之为美', '美之為美'), 2)).toMatchObject({key: 0});
    near.close();
  });

  it('holds a few hundred bytes per kept document in memory; the texts go to the spool', () => {
    const near = new NearDedup();
    const docs = fixtureDocs();
    for (const [i, d] of docs.entries()) near.check(d.text, i);
    const perDoc = near.bytes / near.size;
    expect(perDoc).toBeGreaterThan(256); // the 16-bit signatures alone
    expect(perDoc).toBeLessThan(2048);
    expect(near.diskBytes).toBeGreaterThan(
      0.9 * docs.reduce((n, d) => n + Buffer.byteLength(d.text), 0) * (near.size / docs.length),
    );
    near.close();
  });
});
