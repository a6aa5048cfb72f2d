import {readdir, stat} from 'node:fs/promises';
import {join} from 'node:path';
import {RUN_FILES} from '../run/run-folder.js';
import type {StepEvent} from '../train/train-options.js';

/** One row of the quickstart's table: a stage, its time and its key figures. */
export interface QuickstartStage {
  stage: string;
  /** The stage's result in one line, for people. */
  summary: string;
  seconds: number;
  /** Bytes of what the stage wrote: a data file, a run's model/ folder, the browser export. */
  size_bytes: number | null;
  /** Test accuracy of the stage's classifier (1,000 held-out reviews). */
  accuracy: number | null;
  /** Validation perplexity of the stage's language model. */
  perplexity: number | null;
  /** Every figure of the stage, machine-readable. */
  figures: Record<string, number | string>;
}

/** What a stage's body returns; the runner adds the name and the time. */
export type TourStageResult = Pick<QuickstartStage, 'summary' | 'figures'> &
  Partial<Pick<QuickstartStage, 'size_bytes' | 'accuracy' | 'perplexity'>>;

/** Runs one stage: checks the signal, times the body, records and announces the row. */
export type RunStage = (name: string, body: () => Promise<TourStageResult>) => Promise<QuickstartStage>;

/** The callbacks and settings both halves of the tour share. */
export interface TourContext {
  stage: RunStage;
  /** A path under the tour's output folder. */
  dir: (...parts: string[]) => string;
  seed: number;
  signal?: AbortSignal;
  onStep?: (stage: string, event: StepEvent) => void;
}

export function stageRunner(
  stages: QuickstartStage[],
  signal: AbortSignal | undefined,
  onStage: ((stage: QuickstartStage) => void) | undefined,
): RunStage {
  return async (name, body) => {
    signal?.throwIfAborted();
    const t0 = performance.now();
    const result = await body();
    const row: QuickstartStage = {
      stage: name,
      summary: result.summary,
      seconds: (performance.now() - t0) / 1000,
      size_bytes: result.size_bytes ?? null,
      accuracy: result.accuracy ?? null,
      perplexity: result.perplexity ?? null,
      figures: result.figures,
    };
    stages.push(row);
    onStage?.(row);
    return row;
  };
}

/** Bytes of a run's saved model (model.json and weight shards). */
export async function runModelBytes(runDir: string): Promise<number> {
  const dir = join(runDir, RUN_FILES.model);
  let total = 0;
  for (const name of await readdir(dir)) total += (await stat(join(dir, name))).size;
  return total;
}

export async function fileBytes(file: string): Promise<number> {
  return (await stat(file)).size;
}

export const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
export const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;
export const thousands = (n: number) => n.toLocaleString('en-US');
