// Issue 15's bars in small, on the committed fixture slices: the same corpus generator as
// `npm run bench:clean-quality` (which runs them on the full source packages), a few hundred
// documents per source. Tuning split: IMDB, Reuters, SOTU with the `tune` junk; held-out split:
// the plain-text spam-assassin emails and Moby-Dick with the `validate` junk.
import {describe, expect, it} from 'vitest';
import {presetConfig} from '../../src/data/filters/filter-config.js';
import {buildCorpus, distinctTexts, type SourceDoc} from './eval-corpus.js';
import {type JunkVariant, makeJunk} from './eval-junk.js';
import {cleanRows, ratio, scoreRun} from './eval-score.js';
import {fixtureSources, shortDocs} from './eval-sources.js';

const units = fixtureSources();

function evalSplit(sources: string[], junk: JunkVariant, seed: number) {
  const picked: Record<string, SourceDoc[]> = Object.fromEntries(sources.map((s) => [s, units[s]!]));
  const reserved = Object.values(picked).flatMap((u) => u.filter((_, i) => i % 5 === 4).map((d) => d.text));
  const ctx = {
    lines: reserved.flatMap((t) => t.split('\n')).filter((l) => l.split(/\s+/).length >= 4 && l.length < 200),
    words: reserved.join(' ').split(/\s+/),
    docs: reserved,
  };
  const d = distinctTexts();
  const {rows} = buildCorpus(
    {
      sources: picked,
      shortDocs: (s, u) => shortDocs(s, u, 60),
      originalsPerSource: 300,
      nearRate: 0.5,
      exactRate: 0.1,
      junk: makeJunk(junk, 30, ctx, seed),
      seed,
    },
    d.distinct,
  );
  d.close();
  return scoreRun(rows, cleanRows(rows, {filters: presetConfig('default')}));
}

describe('clean with its defaults on real text with injected copies and junk', () => {
  for (const [name, sources, junk, seed] of [
    ['tuning split', ['imdb', 'reuters', 'sotu'], 'tune', 1],
    ['held-out split', ['email', 'moby'], 'validate', 2],
  ] as const) {
    it(`${name}: near copies found at every length, originals kept, junk removed, real documents kept`, () => {
      const s = evalSplit([...sources], junk, seed);
      expect(s.near.of).toBeGreaterThan(150);
      expect(ratio(s.near)).toBeGreaterThanOrEqual(0.9);
      const weak = Object.entries(s.nearByLength).filter(([, r]) => r.of >= 10 && ratio(r) < 0.85);
      expect(weak).toEqual([]);
      expect(ratio(s.exact)).toBe(1);
      expect(ratio(s.originalsKept)).toBeGreaterThanOrEqual(0.995);
      expect(ratio(s.junkRemoved)).toBeGreaterThanOrEqual(0.85);
      expect(ratio(s.realLost)).toBeLessThanOrEqual(0.005);
      console.log(
        `${name}: near ${ratio(s.near).toFixed(3)} of ${s.near.of}, originals kept ${ratio(s.originalsKept).toFixed(4)}, ` +
          `junk ${ratio(s.junkRemoved).toFixed(3)}, real lost ${s.realLost.hit}/${s.realLost.of}`,
      );
    });
  }
});
