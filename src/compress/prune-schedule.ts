import {ConfigError} from '../errors.js';

/** Gradual pruning: sparsity rises from `initial` to `final` over steps [begin, end], in jumps every `frequency` steps. */
export interface PruneSchedule {
  /** Sparsity at `begin`. Default 0. */
  initial?: number;
  /** Sparsity reached at `end` and kept after. */
  final: number;
  /** First pruning step. Default 0. */
  begin?: number;
  /** Last pruning step; the steps after it fine-tune with the masks fixed. */
  end: number;
  /** Steps between mask updates (Zhu & Gupta prune every 100–1000 steps of long runs). Default 1. */
  frequency?: number;
}

/**
 * Target sparsity at `step` (Zhu & Gupta 2017, "To prune, or not to prune", eq. 1):
 *   s_t = s_f + (s_i − s_f)·(1 − (t − t0)/(n·Δt))³
 * pruning fast while many weights are redundant and slowing down as few are left. The step is
 * rounded down to the last multiple of `frequency` after `begin`, so masks change only there.
 */
export function scheduledSparsity(step: number, schedule: PruneSchedule): number {
  const initial = schedule.initial ?? 0;
  const begin = schedule.begin ?? 0;
  const frequency = schedule.frequency ?? 1;
  if (!(schedule.end >= begin) || !(frequency >= 1)) {
    throw new ConfigError(
      `prune schedule: need end >= begin and frequency >= 1 (got begin ${begin}, end ${schedule.end}, frequency ${frequency})`,
    );
  }
  if (step < begin) return 0;
  if (step >= schedule.end || schedule.end === begin) return schedule.final;
  const t = begin + Math.floor((step - begin) / frequency) * frequency;
  const progress = (t - begin) / (schedule.end - begin);
  return schedule.final + (initial - schedule.final) * (1 - progress) ** 3;
}

/** True at the steps where the masks are recomputed: begin, every `frequency` steps after, and end. */
export function isPruningStep(step: number, schedule: PruneSchedule): boolean {
  const begin = schedule.begin ?? 0;
  if (step < begin || step > schedule.end) return false;
  return step === schedule.end || (step - begin) % (schedule.frequency ?? 1) === 0;
}
