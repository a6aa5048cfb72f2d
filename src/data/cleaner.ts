import {applyModelChecks, type ModelCheck} from './clean-model-check.js';
import {type DedupOptions, type DedupReport, DedupStep} from './dedup/dedup-step.js';
import type {Doc, Verdict} from './doc.js';
import {buildSteps, type CleanStep, type FilterConfig, presetConfig} from './filters/filter-config.js';
import {stripHtml} from './filters/strip-html.js';

const isDrop = (x: Verdict | Doc): x is Verdict => 'keep' in x;

export interface CleanerOptions extends Omit<DedupOptions, 'normalize'> {
  /** Rules, thresholds, fixes and normalization. Default: the `default` preset. */
  filters?: FilterConfig;
  /** Model checks (a quality classifier, a language model's perplexity) on the rows rules and dedup keep. */
  checks?: readonly ModelCheck[];
}

/**
 * The clean step for one stream: text fixes and quality rules in order (the first drop wins), then
 * dedup of what survives — so junk never becomes the kept copy of a duplicate group — then the model
 * checks, if any, on the rows still kept (the costliest step last, as DCLM orders it; a duplicate of
 * a row a model then drops is reported as a duplicate of that row). A document whose text a fix
 * changed is emitted with the new text; rejected rows keep their original text.
 */
export class Cleaner {
  readonly filters: FilterConfig;
  private readonly steps: CleanStep[];
  private readonly dedup: DedupStep;
  private readonly checks: readonly ModelCheck[];

  constructor(options: CleanerOptions = {}) {
    this.checks = options.checks ?? [];
    this.filters = options.filters ?? presetConfig('default');
    this.steps = buildSteps(this.filters);
    if (this.filters.stripHtml) this.steps.unshift({rule: 'strip_html', fix: stripHtml});
    this.dedup = new DedupStep({...options, normalize: this.filters.normalize});
  }

  apply(doc: Doc): Verdict | readonly Doc[] {
    const current = this.applyRules(doc);
    if (isDrop(current)) return current;
    const verdict = this.dedup.apply(current);
    if (!verdict.keep || current === doc) return verdict;
    return [current];
  }

  /**
   * The text fixes and quality rules alone: the first drop, or the row as the rules leave it (`doc`
   * itself when no fix changed its text). The sharded stages run this, and dedup apart.
   */
  applyRules(doc: Doc): Verdict | Doc {
    let text = doc.text;
    let current = doc;
    for (const step of this.steps) {
      if (step.fix) {
        text = step.fix(text);
        current = text === doc.text ? doc : {...doc, text};
        continue;
      }
      const verdict = step.filter!(current);
      if (!verdict.keep) return verdict;
    }
    return current;
  }

  /** The text fixes alone, for a row the rules are known to keep: what `applyRules` returns for it. */
  applyFixes(doc: Doc): Doc {
    let text = doc.text;
    for (const step of this.steps) if (step.fix) text = step.fix(text);
    return text === doc.text ? doc : {...doc, text};
  }

  /** A batch at a time: `apply` to each row, then the model checks on those kept, in batches. */
  async applyBatch(docs: readonly Doc[]): Promise<(Verdict | readonly Doc[])[]> {
    const outs = docs.map((doc) => this.apply(doc));
    if (this.checks.length === 0) return outs;
    const kept: number[] = [];
    for (const [i, out] of outs.entries()) if (Array.isArray(out) || (out as Verdict).keep) kept.push(i);
    const rows = kept.map((i) => (Array.isArray(outs[i]) ? (outs[i] as readonly Doc[])[0]! : docs[i]!));
    const checked = await applyModelChecks(rows, this.checks);
    for (const [j, i] of kept.entries()) {
      const {verdict, doc} = checked[j]!;
      outs[i] = !verdict.keep ? verdict : doc === docs[i] ? verdict : [doc];
    }
    return outs;
  }

  /** Names of the rules that run, in order. */
  get rules(): string[] {
    return [...new Set(this.steps.map((s) => s.rule))];
  }

  dedupReport(): DedupReport {
    return this.dedup.report();
  }

  /** Frees dedup's temporary file; call when the stream is done. */
  close(): void {
    this.dedup.close();
  }
}
