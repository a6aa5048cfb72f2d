import {ConfigError} from '../errors.js';

export interface EarlyStoppingOptions {
  /** Metric to watch, as the evaluation names it (`val_loss`, `val_acc`, `val_macro_f1`…). */
  metric: string;
  /** Whether bigger is better. Default: 'min' for names containing `loss`, else 'max'. */
  mode?: 'min' | 'max';
  /** Evaluations without improvement before stopping. Default 3. */
  patience?: number;
  /** Smallest change that counts as an improvement. Default 0. */
  minDelta?: number;
  /** Put back the best weights at the end. Default true. */
  restoreBest?: boolean;
}

export interface EarlyStoppingState {
  best?: number;
  bestStep?: number;
  /** Evaluations since the last improvement. */
  waited: number;
}

export interface EarlyStoppingVerdict {
  state: EarlyStoppingState;
  improved: boolean;
  stop: boolean;
}

/** Pure: the state after one evaluation, whether it improved, and whether to stop. */
export function updateEarlyStopping(
  options: EarlyStoppingOptions,
  state: EarlyStoppingState,
  metrics: Readonly<Record<string, number>>,
  step: number,
): EarlyStoppingVerdict {
  const value = metrics[options.metric];
  if (value === undefined) {
    throw new ConfigError(
      `early stopping watches '${options.metric}', which the evaluation does not report`,
      `use one of: ${Object.keys(metrics).join(', ') || '(none: give validation data)'}`,
    );
  }
  const mode = options.mode ?? (options.metric.includes('loss') ? 'min' : 'max');
  const delta = options.minDelta ?? 0;
  const improved =
    Number.isFinite(value) &&
    (state.best === undefined || (mode === 'min' ? value < state.best - delta : value > state.best + delta));
  const next: EarlyStoppingState = improved
    ? {best: value, bestStep: step, waited: 0}
    : {...state, waited: state.waited + 1};
  return {state: next, improved, stop: next.waited >= (options.patience ?? 3)};
}
