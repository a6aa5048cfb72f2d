import {describe, expect, it} from 'vitest';
import {DedupStep} from '../../../src/data/dedup/dedup-step.js';
import {NearDedup} from '../../../src/data/dedup/near-dedup.js';
import type {Doc} from '../../../src/data/doc.js';
import {fixtureDocs} from '../fixture-docs.js';
import {nearCopy, seeded, shingleJaccard} from '../near-copies.js';

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
    jaccards.push(shingleJaccard(source.text, text));
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
  return removed;
}

describe('near dedup (MinHash LSH)', () => {
  it('finds injected near copies (1% word edits) with recall >= 0.95 and removes no original', () => {
    // 1% of words, at least one edit, on reviews of >= 100 words: each edit changes up to five
    // 5-gram shingles, so the Jaccard similarity stays above ~0.85. Edits at 5-10% of words give
    // ~0.6-0.4: not near duplicates at a 0.8 threshold by definition (see the next test).
    const {docs, copies, jaccards} = withNearCopies(0.01);
    expect(copies.size).toBeGreaterThan(300);
    // The copies are near duplicates by the definition used: 5-gram Jaccard well above 0.8.
    expect(Math.min(...jaccards)).toBeGreaterThan(0.85);
    const step = new DedupStep({mode: 'both'});
    const removed = run(docs, step);
    const found = [...copies.keys()].filter((id) => removed.get(id)?.reason === 'near_duplicate');
    expect(found.length / copies.size).toBeGreaterThanOrEqual(0.95);
    const originals = [...removed.keys()].filter((id) => !copies.has(id));
    // Originals removed are only the fixture's own 25 exact and 6 near duplicates.
    expect(originals).toHaveLength(31);
    expect(originals.filter((id) => removed.get(id)!.reason === 'exact_duplicate')).toHaveLength(25);
    // Each copy names its source, or the document its source itself duplicates (the kept one).
    for (const id of found) {
      const source = copies.get(id)!;
      expect(removed.get(id)!.of).toBe(removed.get(source)?.of ?? source);
    }
    const report = step.report();
    expect(report.near).toMatchObject({bands: 14, rows: 9, threshold: 0.8, numPerm: 128});
    expect(report.near!.removed).toBe(found.length + 6);
  });

  it('5% word edits are below a 0.8 threshold by construction (Jaccard ~0.6) and are found at 0.5', () => {
    const {docs, copies, jaccards} = withNearCopies(0.05, 11);
    const mean = jaccards.reduce((a, b) => a + b, 0) / jaccards.length;
    expect(mean).toBeGreaterThan(0.5);
    expect(mean).toBeLessThan(0.7);
    const removed = run(docs, new DedupStep({mode: 'near', threshold: 0.5}));
    const found = [...copies.keys()].filter((id) => removed.has(id));
    expect(found.length / copies.size).toBeGreaterThanOrEqual(0.9);
    // Every removal is justified: the removed text really is that similar to the kept one (the
    // fixture holds a genuine pair at 0.57, a reposted review with words changed).
    const text = new Map(docs.map((d) => [d.id, d.text]));
    for (const [id, {of}] of removed)
      expect(shingleJaccard(text.get(id)!, text.get(of)!)).toBeGreaterThan(0.42);
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
    const b = edit(a, 0, 36); // 28 edits spread over A
    const c = edit(b, 18, 36); // 28 more, between B's
    const [A, B, C] = [a, b, c].map((ws) => ws.join(' '));
    // Threshold 0.67: B and C are each within it of their neighbour, A and C well outside it.
    expect(shingleJaccard(A!, B!)).toBeGreaterThan(0.74);
    expect(shingleJaccard(B!, C!)).toBeGreaterThan(0.74);
    expect(shingleJaccard(A!, C!)).toBeLessThan(0.6);
    const near = new NearDedup({threshold: 0.67});
    expect(near.check(A!, 0)).toBeUndefined();
    expect(near.check(B!, 1)).toMatchObject({key: 0});
    // C is compared with A, the kept document, never with the removed B: it stays.
    expect(near.check(C!, 2)).toBeUndefined();
    expect(near.size).toBe(2);
  });

  it('shingles mostly-CJK text by characters: a one-character edit is found, another text is not', () => {
    const tao =
      '道可道，非常道。名可名，非常名。无名天地之始；有名万物之母。故常无欲，以观其妙；常有欲，以观其徼。此两者，同出而异名，同谓之玄。玄之又玄，众妙之门。' +
      '天下皆知美之为美，斯恶已。皆知善之为善，斯不善已。故有无相生，难易相成，长短相形，高下相倾，音声相和，前后相随。是以圣人处无为之事，行不言之教。';
    const other =
      '不尚贤，使民不争；不贵难得之货，使民不为盗；不见可欲，使民心不乱。是以圣人之治，虚其心，实其腹，弱其志，强其骨。常使民无知无欲。使夫智者不敢为也。为无为，则无不治。';
    const near = new NearDedup();
    expect(near.check(tao, 0)).toBeUndefined();
    expect(near.check(other, 1)).toBeUndefined();
    expect(near.check(tao.replace('美之为美', '美之為美'), 2)).toMatchObject({key: 0});
  });

  it('state grows by a few hundred bytes per kept document', () => {
    const near = new NearDedup();
    const docs = fixtureDocs();
    for (const [i, d] of docs.entries()) near.check(d.text, i);
    const perDoc = near.bytes / near.size;
    expect(perDoc).toBeGreaterThan(256); // the 16-bit signatures alone
    expect(perDoc).toBeLessThan(2048);
  });
});
