import type {Command} from '@oclif/core';
import {InterruptedError} from '../errors.js';
import type {EpochEvent, EvalEvent, StepEvent} from '../train/trainer.js';
import {TrainProgress} from './train-progress.js';

/** The callbacks a long-running model job gets: stop signal, progress and notes. */
export interface TrainingCallbacks {
  /** Aborted on Ctrl-C: the trainer checkpoints and returns its report. */
  signal: AbortSignal;
  onStep: (event: StepEvent) => void;
  onEval: (event: EvalEvent) => void;
  onEpoch: (event: EpochEvent) => void;
  onInfo: (message: string) => void;
}

/**
 * How train, finetune and distill run their job: Ctrl-C aborts it cleanly (the trainer writes a
 * checkpoint and returns, so `--resume` continues), progress goes to stderr (a bar on a terminal,
 * lines elsewhere) with notes printed above it, and the report is printed with `format` unless
 * `--json` (oclif then prints the returned report on stdout).
 */
export async function runTraining<R>(
  command: Pick<Command, 'jsonEnabled' | 'log'>,
  job: (callbacks: TrainingCallbacks) => Promise<R>,
  format: (report: R) => string,
  progress = new TrainProgress(),
): Promise<R> {
  try {
    let stoppedBy: 'SIGINT' | 'SIGTERM' | undefined;
    const report = await untilInterrupted(
      (signal) =>
        job({
          signal,
          onStep: progress.onStep,
          onEval: progress.onEval,
          onEpoch: progress.onEpoch,
          onInfo: (message) => progress.line(message),
        }),
      (name) => {
        stoppedBy = name;
      },
    );
    progress.stop();
    const outcome = report as {stopped_by?: string; steps?: number};
    if (outcome.stopped_by === 'aborted') {
      throw new InterruptedError(
        `interrupted at step ${outcome.steps ?? 0}; checkpoint saved; --resume continues`,
        stoppedBy ?? 'SIGINT',
      );
    }
    if (!command.jsonEnabled()) command.log(format(report));
    return report;
  } finally {
    progress.stop();
  }
}

/**
 * Runs `job` with a signal that Ctrl-C or SIGTERM aborts (the job stops cleanly at its next step);
 * `onSignal` learns which one. The handlers go when the job ends; a second signal meanwhile finds
 * none of ours and ends the process.
 */
export async function untilInterrupted<R>(
  job: (signal: AbortSignal) => Promise<R>,
  onSignal?: (name: 'SIGINT' | 'SIGTERM') => void,
): Promise<R> {
  const controller = new AbortController();
  const handlers = {
    SIGINT: () => {
      onSignal?.('SIGINT');
      controller.abort();
    },
    SIGTERM: () => {
      onSignal?.('SIGTERM');
      controller.abort();
    },
  };
  process.once('SIGINT', handlers.SIGINT);
  process.once('SIGTERM', handlers.SIGTERM);
  try {
    return await job(controller.signal);
  } finally {
    process.off('SIGINT', handlers.SIGINT);
    process.off('SIGTERM', handlers.SIGTERM);
  }
}
