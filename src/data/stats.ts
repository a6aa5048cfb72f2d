import {ExactDedup} from './dedup/exact-dedup.js';
import type {NormalizeOptions} from './dedup/normalize.js';
import type {Doc} from './doc.js';
import {words as wordsOf} from './filters/words.js';
import {InputIssueCounter, type InputIssues} from './io/input-issues.js';
import {type ReadDocsOptions, readDocs} from './io/read-docs.js';
import {formatLabelDistribution, type LabelDistribution, labelDistribution} from './label-distribution.js';
import {LengthHistogram, type LengthSummary} from './length-histogram.js';
import {isEnglishStopword} from './stopwords-en.js';
import {type Script, scriptCounts} from './unicode-script.js';

export interface StatsReport {
  rows: number;
  /** Rows whose text is empty or only whitespace. */
  emptyRows: number;
  /** Rows per label, or null when no row has a label. */
  labels: LabelDistribution | null;
  unlabeledRows: number;
  /** Text length in UTF-16 characters. */
  chars: LengthSummary;
  /** Text length in words, as the quality filters count them: each CJK character is one word. */
  words: LengthSummary;
  /**
   * Rows that repeat an earlier row: `exact` byte for byte, `normalized` after NFKC, case fold
   * and collapsed whitespace (what `clean --dedup exact` removes). Rates are of all rows.
   */
  duplicates: {exact: number; exactRate: number; normalized: number; normalizedRate: number};
  /**
   * Writing systems (Unicode Script of the letters): `letters` is each script's share of all
   * letters; `rows` counts rows by the script most of their letters are in (`none`: no letters).
   */
  scripts: {letters: Partial<Record<Script, number>>; rows: Partial<Record<Script | 'none', number>>};
  /**
   * A rough language guess for rows mostly in Latin script, by the share of English stop words
   * among their words (at least `threshold`: English). Rows under 3 words are `tooShort`.
   */
  englishByStopwords: {english: number; otherLatin: number; tooShort: number; threshold: number};
}

/** Share of stop words above which a Latin-script row counts as English (English prose: ~0.45; French, German, Spanish: under 0.22 on this list). */
const ENGLISH_STOPWORD_SHARE = 0.25;
const LATIN_WORD = /^\p{sc=Latin}[\p{sc=Latin}'’-]*$/u;

/**
 * Gathers dataset statistics row by row. Memory: two length histograms (fixed, ~80 KB) and two
 * 64-bit hash tables for the duplicate counts (about 24 bytes per distinct row each, at worst).
 */
export class StatsCollector {
  private rows = 0;
  private emptyRows = 0;
  private unlabeledRows = 0;
  private readonly labels = new Map<string, number>();
  private readonly chars = new LengthHistogram();
  private readonly words = new LengthHistogram();
  private readonly exact = new ExactDedup({nfkc: false, caseFold: false, collapseWhitespace: false});
  private readonly normalized: ExactDedup;
  private exactDuplicates = 0;
  private normalizedDuplicates = 0;
  private readonly letters = new Map<Script, number>();
  private readonly rowScripts = new Map<Script | 'none', number>();
  private readonly english = {english: 0, otherLatin: 0, tooShort: 0, threshold: ENGLISH_STOPWORD_SHARE};

  constructor(normalize: NormalizeOptions = {}) {
    this.normalized = new ExactDedup(normalize);
  }

  add(doc: Doc): void {
    const {text} = doc;
    this.rows++;
    if (text.trim() === '') this.emptyRows++;
    if (doc.label === undefined) this.unlabeledRows++;
    else this.labels.set(doc.label, (this.labels.get(doc.label) ?? 0) + 1);
    const words = wordsOf(text);
    this.chars.add(text.length);
    this.words.add(words.length);
    if (seenBefore(this.exact, text)) this.exactDuplicates++;
    if (seenBefore(this.normalized, text)) this.normalizedDuplicates++;
    let dominant: Script | 'none' = 'none';
    let most = 0;
    for (const [script, n] of Object.entries(scriptCounts(text)) as [Script, number][]) {
      this.letters.set(script, (this.letters.get(script) ?? 0) + n);
      if (n > most) [dominant, most] = [script, n];
    }
    this.rowScripts.set(dominant, (this.rowScripts.get(dominant) ?? 0) + 1);
    if (dominant === 'Latin') this.guessEnglish(words);
  }

  report(): StatsReport {
    const rate = (n: number) => (this.rows === 0 ? 0 : n / this.rows);
    const letterTotal = [...this.letters.values()].reduce((a, b) => a + b, 0);
    return {
      rows: this.rows,
      emptyRows: this.emptyRows,
      labels: this.labels.size > 0 ? labelDistribution(this.labels) : null,
      unlabeledRows: this.unlabeledRows,
      chars: this.chars.summary(),
      words: this.words.summary(),
      duplicates: {
        exact: this.exactDuplicates,
        exactRate: rate(this.exactDuplicates),
        normalized: this.normalizedDuplicates,
        normalizedRate: rate(this.normalizedDuplicates),
      },
      scripts: {
        letters: Object.fromEntries(byCount(this.letters).map(([s, n]) => [s, n / letterTotal])),
        rows: Object.fromEntries(byCount(this.rowScripts)),
      },
      englishByStopwords: {...this.english},
    };
  }

  private guessEnglish(words: readonly string[]): void {
    let total = 0;
    let stop = 0;
    for (const word of words) {
      const w = word.toLowerCase();
      if (!LATIN_WORD.test(w)) continue;
      total++;
      if (isEnglishStopword(w)) stop++;
    }
    if (total < 3) this.english.tooShort++;
    else if (stop / total >= ENGLISH_STOPWORD_SHARE) this.english.english++;
    else this.english.otherLatin++;
  }
}

/** Statistics of a stream of rows. */
export async function collectStats(
  docs: AsyncIterable<Doc> | Iterable<Doc>,
  normalize: NormalizeOptions = {},
): Promise<StatsReport> {
  const collector = new StatsCollector(normalize);
  for await (const doc of docs) collector.add(doc);
  return collector.report();
}

/** Whether `text` was added before; adds it if not. */
function seenBefore(dedup: ExactDedup, text: string): boolean {
  if (dedup.find(text) !== -1) return true;
  dedup.remember(0);
  return false;
}

function formatScripts({letters, rows}: StatsReport['scripts']): string {
  const shares = Object.entries(letters).map(([s, share]) => `${s} ${(100 * (share ?? 0)).toFixed(1)}%`);
  if (shares.length === 0) return 'no letters';
  const main = Object.entries(rows).map(([s, n]) => `${s} ${n}`);
  return `${shares.join(' · ')} of letters; rows by main script: ${main.join(' · ')}`;
}

function byCount<K>(map: ReadonlyMap<K, number>): [K, number][] {
  return [...map].sort((a, b) => b[1] - a[1]);
}

export interface StatsRunReport extends StatsReport, InputIssues {
  seconds: number;
}

/** Statistics of a file or stream (`--in`/stdin), read once. */
export async function runStats(
  options: Omit<ReadDocsOptions, 'input'> & {input?: ReadDocsOptions['input']; normalize?: NormalizeOptions},
): Promise<StatsRunReport> {
  const started = performance.now();
  const input = options.input ?? process.stdin;
  const issues = new InputIssueCounter(
    typeof input === 'string' ? input : (options.sourceName ?? 'stdin'),
    options.onSkip,
  );
  const docs = readDocs({...options, input, onSkip: issues.onSkip, onInvalidUtf8: issues.onInvalidUtf8});
  const report = await collectStats(docs, options.normalize);
  return {...report, ...issues.issues, seconds: (performance.now() - started) / 1000};
}

/** The human report, one line per measure. */
export function formatStats(r: StatsRunReport): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const lengths = (l: LengthSummary) =>
    `min ${l.min} · p5 ${l.p5} · p50 ${l.p50} · p95 ${l.p95} · max ${l.max} · mean ${l.mean}`;
  const e = r.englishByStopwords;
  const lines = [
    `rows        ${r.rows}${r.emptyRows ? ` (${r.emptyRows} empty)` : ''}${r.skipped ? `, ${r.skipped} malformed skipped` : ''}`,
    `labels      ${r.labels ? formatLabelDistribution(r.labels) : 'none'}${r.labels && r.unlabeledRows ? ` · ${r.unlabeledRows} rows unlabeled` : ''}`,
    `chars       ${lengths(r.chars)}`,
    `words       ${lengths(r.words)}`,
    `duplicates  ${r.duplicates.exact} exact (${pct(r.duplicates.exactRate)}) · ${r.duplicates.normalized} after normalizing (${pct(r.duplicates.normalizedRate)})`,
    `scripts     ${formatScripts(r.scripts)}`,
    `english?    ${e.english} Latin-script rows look English (>= ${pct(e.threshold)} stop words), ${e.otherLatin} do not, ${e.tooShort} too short to tell`,
  ];
  if (r.invalidUtf8Lines > 0) {
    lines.push(
      `encoding    ${r.invalidUtf8Lines} lines with bytes that are not UTF-8 (first: ${r.firstInvalidUtf8}), read as U+FFFD`,
    );
  }
  return lines.join('\n');
}
