import type {Command} from '@oclif/core';
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
    const report = await untilInterrupted((signal) =>
      job({
        signal,
        onStep: progress.onStep,
        onEval: progress.onEval,
        onEpoch: progress.onEpoch,
        onInfo: (message) => progress.line(message),
      }),
    );
    progress.stop();
    if (!command.jsonEnabled()) command.log(format(report));
    return report;
  } finally {
    progress.stop();
  }
}

/** Runs `job` with a signal that Ctrl-C aborts (the job stops cleanly); the handler goes when it ends. */
export async function untilInterrupted<R>(job: (signal: AbortSignal) => Promise<R>): Promise<R> {
  const controller = new AbortController();
  const abort = () => controller.abort();
  process.once('SIGINT', abort);
  try {
    return await job(controller.signal);
  } finally {
    process.off('SIGINT', abort);
  }
}
