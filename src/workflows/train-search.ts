import {mkdir, rename, rm, rmdir} from 'node:fs/promises';
import {join} from 'node:path';
import {ConfigError} from '../errors.js';
import {writeOutputFolder} from '../fs/output-folder.js';
import type {Task} from '../models/model-kind.js';
import {kindToTrain} from '../models/registry.js';
import {PRESET_SCHEDULES} from '../models/text-classifier/classifier-plan.js';
import type {TrainRunOptions, TrainRunReport} from '../models/train-options.js';
import {checkRunFolderUsable} from '../run/run-folder.js';

export interface BudgetSearchOptions extends TrainRunOptions {
  /** Wall-clock seconds for the whole search; runs still going at the end are stopped (and scored if they validated). */
  budgetSeconds: number;
  /** Presets to try. Default per kind: fasttext, bag, tiny, small for text classifiers; every preset otherwise. */
  presets?: string[];
  /** Learning-rate multipliers around each preset's own rate. Default 1/3, 1, 3. */
  lrFactors?: number[];
  /** Epochs of each rung (successive halving keeps the best third for the next). Default 1, 3, 9. */
  rungEpochs?: number[];
  /** Told each finished trial, as it ends. */
  onTrial?: (trial: SearchTrial) => void;
}

/** One training run of the search. */
export interface SearchTrial {
  /** `preset@lr`. */
  candidate: string;
  preset: string;
  lr: number;
  rung: number;
  epochs: number;
  /** Validation accuracy (classifiers) of the run's kept weights. */
  val_acc?: number;
  val_loss?: number;
  seconds: number;
  /** `done`, `stopped` (the budget ran out mid-run), or `failed` (with the error). */
  status: 'done' | 'stopped' | 'failed';
  error?: string;
}

export interface BudgetSearchReport {
  budget_seconds: number;
  seconds: number;
  trials: SearchTrial[];
  /** The trial whose run folder became `out`. */
  winner: SearchTrial;
  /** Why it won, in one sentence. */
  reason: string;
  /** The winning run's own training report. */
  run: TrainRunReport;
}

/** Default presets per kind: the text classifier's fast ones, else every preset. */
const SEARCH_PRESETS: Record<string, string[]> = {'text-classifier': ['fasttext', 'bag', 'tiny', 'small']};

/** Higher is better: validation accuracy, or minus the validation loss for kinds without one. */
const score = (t: SearchTrial) =>
  t.val_acc ?? (t.val_loss === undefined ? Number.NEGATIVE_INFINITY : -t.val_loss);

/**
 * `train --budget`: successive halving (Jamieson & Talwalkar 2016; Hyperband's inner loop) over
 * presets × learning rates. Every candidate trains `rungEpochs[0]` epochs; the best third by
 * validation score trains `rungEpochs[1]`, and so on, each run from scratch into its own folder under
 * `out`.search/. A run that would outlast the budget is stopped at the deadline; candidates of a rung
 * never started are reported as skipped by leaving them out. The best scoring run becomes `out`.
 */
export async function trainWithBudget(task: Task, options: BudgetSearchOptions): Promise<BudgetSearchReport> {
  if (!(options.budgetSeconds > 0))
    throw new ConfigError(`--budget must be above 0 s, got ${options.budgetSeconds}`);
  if (options.resume) throw new ConfigError('--budget starts new runs', 'drop --resume');
  await checkRunFolderUsable(options.out, options);
  const kind = kindToTrain(task, options);
  const presets = options.presets ?? SEARCH_PRESETS[kind.id] ?? Object.keys(kind.presets);
  for (const p of presets) {
    if (!(p in kind.presets)) {
      throw new ConfigError(
        `--budget: unknown preset "${p}"`,
        `${kind.id} presets: ${Object.keys(kind.presets).join(', ')}`,
      );
    }
  }
  const factors = options.lrFactors ?? [1 / 3, 1, 3];
  const rungs = options.rungEpochs ?? [1, 3, 9];
  const started = performance.now();
  const deadline = started + options.budgetSeconds * 1000;
  const scratch = `${options.out}.search`;
  await rm(scratch, {recursive: true, force: true});
  await mkdir(scratch, {recursive: true});
  let candidates = presets.flatMap((preset) =>
    factors.map((f) => {
      const lr = Number(((options.lr ?? PRESET_SCHEDULES[preset]?.lr ?? 1e-3) * f).toPrecision(2));
      return {preset, lr, candidate: `${preset}@${lr}`};
    }),
  );
  const trials: SearchTrial[] = [];
  const dirs = new Map<SearchTrial, string>();
  const reports = new Map<SearchTrial, TrainRunReport>();
  try {
    for (const [rung, epochs] of rungs.entries()) {
      const results: SearchTrial[] = [];
      for (const c of candidates) {
        const left = deadline - performance.now();
        if (left <= 0) break;
        const dir = join(scratch, `${c.candidate.replace(/[^\w.@-]/g, '_')}-r${rung}`);
        const signal = AbortSignal.any([
          AbortSignal.timeout(Math.ceil(left)),
          ...(options.signal ? [options.signal] : []),
        ]);
        const t0 = performance.now();
        const trial: SearchTrial = {...c, rung, epochs, seconds: 0, status: 'done'};
        try {
          const report = await kind.train({
            ...options,
            out: dir,
            overwrite: true,
            preset: c.preset,
            configFile: undefined,
            lr: c.lr,
            epochs,
            steps: undefined,
            signal,
            onInfo: undefined,
            onStep: undefined,
            onEval: undefined,
            onEpoch: undefined,
          });
          trial.val_acc = report.validation?.val_acc;
          trial.val_loss = report.validation?.val_loss;
          if (report.stopped_by === 'aborted') trial.status = 'stopped';
          dirs.set(trial, dir);
          reports.set(trial, report);
        } catch (err) {
          trial.status = 'failed';
          trial.error = (err as Error).message;
        }
        trial.seconds = (performance.now() - t0) / 1000;
        trials.push(trial);
        results.push(trial);
        options.onTrial?.(trial);
        if (options.signal?.aborted) break;
      }
      const ranked = results.filter((t) => t.status === 'done').sort((a, b) => score(b) - score(a));
      candidates = ranked.slice(0, Math.max(1, Math.ceil(ranked.length / 3)));
      if (candidates.length <= 1 && rung > 0) break;
      if (performance.now() >= deadline || options.signal?.aborted) break;
    }
    const scored = trials.filter((t) => dirs.has(t) && Number.isFinite(score(t)));
    if (scored.length === 0) {
      throw new ConfigError(
        `--budget ${options.budgetSeconds}s: no run finished a validation in time`,
        'give a larger budget (the first rung trains every candidate for one epoch)',
      );
    }
    const winner = scored.reduce((best, t) => (score(t) > score(best) ? t : best));
    const runnerUp = scored
      .filter((t) => t.candidate !== winner.candidate)
      .sort((a, b) => score(b) - score(a))[0];
    const what = winner.val_acc !== undefined ? 'validation accuracy' : 'validation loss';
    const value = (t: SearchTrial) => (t.val_acc ?? t.val_loss)!.toFixed(4);
    const reason =
      `${winner.candidate} had the best ${what} (${value(winner)} after ${winner.epochs} epoch${winner.epochs > 1 ? 's' : ''}, rung ${winner.rung + 1})` +
      (runnerUp ? `; next best ${runnerUp.candidate} at ${value(runnerUp)}` : '');
    // The winner takes the place of the output's temporary folder: an old --out is replaced only
    // once the new run is in place, and a failed rename leaves it as it was.
    await writeOutputFolder(options.out, {overwrite: options.overwrite}, async (tmp) => {
      await rmdir(tmp);
      await rename(dirs.get(winner)!, tmp);
    });
    return {
      budget_seconds: options.budgetSeconds,
      seconds: (performance.now() - started) / 1000,
      trials,
      winner,
      reason,
      run: {...reports.get(winner)!, out: options.out},
    };
  } finally {
    await rm(scratch, {recursive: true, force: true});
  }
}

/** One line as a trial ends: `tried fasttext@0.01 (3 epochs): val_acc 0.9312 in 12.0 s`. */
export function formatTrial(t: SearchTrial): string {
  const score =
    t.val_acc !== undefined ? `val_acc ${t.val_acc.toFixed(4)}` : `val_loss ${t.val_loss?.toFixed(4) ?? '-'}`;
  return `tried ${t.candidate} (${t.epochs} epoch${t.epochs > 1 ? 's' : ''}): ${t.status === 'failed' ? `failed: ${t.error}` : score} in ${t.seconds.toFixed(1)} s${t.status === 'stopped' ? ', stopped at the deadline' : ''}`;
}

/** The trials as a table, then the winner and why. */
export function formatBudgetSearch(r: BudgetSearchReport): string {
  const head = `${'candidate'.padEnd(18)} ${'rung'.padStart(4)} ${'epochs'.padStart(6)} ${'val_acc'.padStart(8)} ${'val_loss'.padStart(8)} ${'seconds'.padStart(8)}  status`;
  const fmt = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(4)).padStart(8);
  const lines = r.trials.map(
    (t) =>
      `${t.candidate.padEnd(18)} ${String(t.rung + 1).padStart(4)} ${String(t.epochs).padStart(6)} ${fmt(t.val_acc)} ${fmt(t.val_loss)} ${t.seconds.toFixed(1).padStart(8)}  ${t.status}${t === r.winner ? ' ← kept' : ''}${t.error ? ` (${t.error})` : ''}`,
  );
  return [
    head,
    ...lines,
    '',
    `${r.trials.length} runs in ${r.seconds.toFixed(0)} s of a ${r.budget_seconds} s budget; kept ${r.winner.candidate} → ${r.run.out}: ${r.reason}`,
  ].join('\n');
}
