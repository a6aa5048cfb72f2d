// The evaluation corpus of issue 15, built from real text: documents cut to a spread of lengths
// (5-500 words), exact copies, near copies with one kind of edit each, and real short documents
// (a headline, a quote, a signature block). Junk comes from eval-junk.ts. Used by
// `npm run bench:clean-quality` on the full source packages and by the tests on the fixture slices.
import {NearDedup} from '../../src/data/dedup/near-dedup.js';
import {countWords} from '../../src/data/filters/words.js';
import {seeded} from './near-copies.js';

/** One unit of a real source: an IMDB review, an email body, a Reuters story, an address, a chapter. */
export interface SourceDoc {
  id: string;
  text: string;
}

export const EDIT_KINDS = [
  'typos',
  'word_substitution',
  'word_insertion',
  'word_deletion',
  'case',
  'punctuation',
  'whitespace',
  'appended_line',
  'prepended_line',
  'dropped_line',
] as const;
export type EditKind = (typeof EDIT_KINDS)[number];

export type Role = 'original' | 'exact' | 'near' | 'junk' | 'short';

export interface EvalRow {
  id: string;
  text: string;
  role: Role;
  source: string;
  /** Copies: the id of the original. */
  of?: string;
  edit?: EditKind;
  /** Junk: its kind. Short documents: what they are (headline, signature, …). */
  kind?: string;
  words: number;
}

/** Length buckets (words) the bench reports recall by. */
export const LENGTH_BUCKETS = [
  [5, 10],
  [10, 20],
  [20, 50],
  [50, 100],
  [100, 200],
  [200, 500],
] as const;

export function lengthBucket(words: number): string {
  for (const [lo, hi] of LENGTH_BUCKETS) if (words < hi) return `${lo}-${hi}`;
  return '200-500';
}

const TOKEN = /\S+\s*/g;

/**
 * Cuts `count` non-overlapping documents from the units of one source: each starts at a line or
 * sentence start and takes a length drawn log-uniformly from 5 to 500 words, cut at a token
 * boundary; a unit shorter than the draw gives what it has. At most `perUnit` cuts come from one unit.
 */
export function cutDocuments(
  source: string,
  units: readonly SourceDoc[],
  count: number,
  rand: () => number,
  perUnit = 40,
): EvalRow[] {
  const out: EvalRow[] = [];
  const order = units.map((_, i) => [rand(), i] as const).sort((a, b) => a[0] - b[0]);
  for (const [, u] of order) {
    const unit = units[u]!;
    const tokens = unit.text.trim().match(TOKEN) ?? [];
    let at = 0;
    for (let cut = 0; cut < perUnit && at < tokens.length && out.length < count; cut++) {
      const want = Math.round(Math.exp(Math.log(5) + rand() * Math.log(100)));
      const picked: string[] = [];
      let words = 0;
      while (at < tokens.length && words < want) {
        const t = tokens[at++]!;
        picked.push(t);
        words += countWords(t);
      }
      // Skip to the next line or sentence start, so the next cut starts with one.
      while (at < tokens.length && !/\n|[.!?]["”’)]?\s$/.test(tokens[at - 1]!)) at++;
      const text = picked.join('').trim();
      const n = countWords(text);
      if (n >= 5) out.push({id: `${source}:${unit.id}:${cut}`, text, role: 'original', source, words: n});
    }
    if (out.length >= count) break;
  }
  return out;
}

const FILLER = ['really', 'also', 'then', 'very', 'just', 'still', 'quite', 'even', 'now', 'only'];

/**
 * A near copy of `text` with one kind of edit, applied `amount` times (at least once): typos are
 * character swaps, drops, doublings or replacements inside words; word edits use `vocabulary`;
 * line edits take a line from `lines` (another document of the same source) or drop one line (a
 * sentence when the text is one line).
 */
export function nearCopy(
  text: string,
  edit: EditKind,
  amount: number,
  rand: () => number,
  vocabulary: readonly string[],
  lines: readonly string[],
): string {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const words = text.split(/(\s+)/); // words at even indices, the whitespace between at odd
  const wordAt = () => 2 * Math.floor((rand() * (words.length + 1)) / 2);
  const n = Math.max(1, amount);
  switch (edit) {
    case 'typos':
      for (let e = 0; e < n; e++) {
        const i = wordAt();
        const w = words[i] ?? '';
        if (w.length < 2) continue;
        const at = Math.floor(rand() * (w.length - 1));
        const op = Math.floor(rand() * 4);
        words[i] =
          op === 0
            ? w.slice(0, at) + w[at + 1] + w[at] + w.slice(at + 2)
            : op === 1
              ? w.slice(0, at) + w.slice(at + 1)
              : op === 2
                ? w.slice(0, at) + w[at] + w.slice(at)
                : w.slice(0, at) + String.fromCharCode(97 + Math.floor(rand() * 26)) + w.slice(at + 1);
      }
      return words.join('');
    case 'word_substitution':
      for (let e = 0; e < n; e++) words[wordAt()] = pick(vocabulary);
      return words.join('');
    case 'word_insertion':
      for (let e = 0; e < n; e++)
        words.splice(wordAt(), 0, rand() < 0.5 ? pick(FILLER) : pick(vocabulary), ' ');
      return words.join('');
    case 'word_deletion':
      for (let e = 0; e < n && words.length > 2; e++) words.splice(Math.min(wordAt(), words.length - 2), 2);
      return words.join('');
    case 'case': {
      const style = Math.floor(rand() * 3);
      if (style === 0) return text.toUpperCase();
      if (style === 1) return text.toLowerCase();
      return words.map((w, i) => (i % 2 === 0 && rand() < 0.3 ? w.toUpperCase() : w)).join('');
    }
    case 'punctuation':
      return text
        .replace(/[,.;:!?'"()-]/g, (p) =>
          rand() < 0.5 ? '' : rand() < 0.5 ? p : pick([',', '.', '!', ';', ' -']),
        )
        .replace(/ (\w)/g, (m, c: string) => (rand() < 0.02 ? `, ${c}` : m));
    case 'whitespace':
      return words
        .map((w, i) => (i % 2 === 1 ? (rand() < 0.3 ? pick(['  ', '\n', '\t', ' \n ']) : w) : w))
        .join('');
    case 'appended_line':
      return `${text}\n${pick(lines)}`;
    case 'prepended_line':
      return `${pick(lines)}\n${text}`;
    case 'dropped_line': {
      const parts = text.includes('\n') ? text.split('\n') : text.split(/(?<=[.!?])\s+/);
      if (parts.length < 2) return words.slice(0, Math.max(1, words.length - 6)).join('');
      parts.splice(Math.floor(rand() * parts.length), 1);
      return parts.join(text.includes('\n') ? '\n' : ' ');
    }
  }
}

/** Jaccard similarity of the character 5-gram sets of the raw texts (no folding): the measure. */
export function rawCharJaccard(a: string, b: string, n = 5): number {
  const grams = (t: string) => {
    const s = new Set<string>();
    for (let i = 0; i + n <= t.length; i++) s.add(t.slice(i, i + n));
    if (s.size === 0 && t.length > 0) s.add(t);
    return s;
  };
  const x = grams(a);
  const y = grams(b);
  let both = 0;
  for (const g of x) if (y.has(g)) both++;
  return both / (x.size + y.size - both || 1);
}

export interface CorpusOptions {
  /** Units of each real source. */
  sources: Record<string, readonly SourceDoc[]>;
  /**
   * Real short documents (headlines, signatures, quotes…) of a source, taken from the units kept
   * apart for them (every fifth), so that none is part of an original.
   */
  shortDocs?: (source: string, units: readonly SourceDoc[]) => readonly {kind: string; text: string}[];
  originalsPerSource: number;
  /** Share of originals that get a near copy, and an exact copy. */
  nearRate: number;
  exactRate: number;
  /** Junk rows, mixed in at random places. */
  junk?: readonly {kind: string; text: string}[];
  seed: number;
}

/**
 * Originals must be distinct documents, or "originals kept" would count a source's own repeats
 * (mailing-list footers, agency boilerplate) as losses: a cut whose character 5-gram Jaccard with
 * an earlier original reaches this is left out (checked exactly, by `distinct`).
 */
export const DISTINCT_BELOW = 0.5;

/**
 * A `distinct` check for buildCorpus: false for a text within DISTINCT_BELOW of one seen before.
 * `repeats` collects the similarity of each text left out: how near the sources' own repeats are.
 */
export function distinctTexts(): {distinct: (text: string) => boolean; repeats: number[]; close: () => void} {
  const near = new NearDedup({threshold: DISTINCT_BELOW, falseNegativeWeight: 0.99});
  const repeats: number[] = [];
  let key = 0;
  const distinct = (text: string) => {
    const match = near.check(text, key++);
    if (match) repeats.push(match.similarity);
    return match === undefined;
  };
  return {distinct, repeats, close: () => near.close()};
}

/**
 * Originals from every source, each copy placed after its original, junk and short documents at
 * random places. Near copies get `amount` edits with amount up to 2-10% of the words.
 */
export function buildCorpus(
  options: CorpusOptions,
  distinct: (text: string) => boolean,
): {rows: EvalRow[]; repeatsLeftOut: number} {
  const rand = seeded(options.seed);
  const keyed: [number, EvalRow][] = [];
  let repeatsLeftOut = 0;
  for (const [source, all] of Object.entries(options.sources)) {
    const units = all.filter((_, i) => i % 5 !== 4);
    const cuts = cutDocuments(source, units, options.originalsPerSource, rand);
    const originals = cuts.filter((o) => distinct(o.text));
    repeatsLeftOut += cuts.length - originals.length;
    const vocabulary = [
      ...new Set(originals.flatMap((o) => o.text.split(/\s+/)).filter((w) => /^[a-z]+$/i.test(w))),
    ];
    const lines = originals.flatMap((o) => o.text.split(/\n|(?<=[.!?])\s+/)).filter((l) => l.length > 10);
    for (const [i, o] of originals.entries()) {
      const key = rand();
      keyed.push([key, o]);
      const later = () => key + rand() * (1 - key);
      if (rand() < options.exactRate)
        keyed.push([later(), {...o, id: `${o.id}:exact`, role: 'exact', of: o.id}]);
      if (rand() < options.nearRate) {
        const edit = EDIT_KINDS[i % EDIT_KINDS.length]!;
        const rate = [0.02, 0.05, 0.1][Math.floor(rand() * 3)]!;
        const amount = 1 + Math.floor(rand() * Math.max(1, rate * o.words));
        const text = nearCopy(o.text, edit, amount, rand, vocabulary, lines);
        if (text === o.text) continue;
        keyed.push([
          later(),
          {...o, id: `${o.id}:near`, text, role: 'near', of: o.id, edit, words: countWords(text)},
        ]);
      }
    }
    const shorts =
      options.shortDocs?.(
        source,
        all.filter((_, i) => i % 5 === 4),
      ) ?? [];
    for (const [i, s] of shorts.entries()) {
      if (!distinct(s.text)) continue;
      const row: EvalRow = {
        id: `${source}:short:${i}`,
        text: s.text,
        role: 'short',
        source,
        kind: s.kind,
        words: countWords(s.text),
      };
      keyed.push([rand(), row]);
    }
  }
  for (const [i, j] of (options.junk ?? []).entries()) {
    keyed.push([
      rand(),
      {
        id: `junk:${j.kind}:${i}`,
        text: j.text,
        role: 'junk',
        source: 'junk',
        kind: j.kind,
        words: countWords(j.text),
      },
    ]);
  }
  return {rows: keyed.sort((a, b) => a[0] - b[0]).map(([, row]) => row), repeatsLeftOut};
}
