import {appendFile, lstat, readFile, writeFile} from 'node:fs/promises';
import {ModelError} from '../errors.js';

/** One line of `metrics.jsonl`: a training step, an evaluation, or an epoch summary. */
export interface MetricsRecord {
  type: 'step' | 'eval' | 'epoch';
  step: number;
  epoch: number;
  /** Seconds since the run started (resumed runs continue the count). */
  time: number;
  [metric: string]: number | string;
}

/** Appends records to `metrics.jsonl`, one JSON object per line. */
export class MetricsLog {
  private constructor(readonly path: string) {}

  /**
   * Opens the log. Resuming from step `resumeStep` drops the lines written after that checkpoint, so
   * the file holds one clean curve rather than the interrupted run's tail followed by its replay.
   */
  static async open(path: string, resumeStep?: number): Promise<MetricsLog> {
    // A link (maybe out of the run folder) or a special file is never read, truncated or written through.
    const info = await lstat(path).catch(() => undefined);
    if (info && !info.isFile()) {
      throw new ModelError(
        `${path}: the metrics log is ${info.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}`,
        'refusing to write through it; remove it and run again',
      );
    }
    if (resumeStep === undefined) {
      await writeFile(path, '');
    } else {
      const kept = (await readFile(path, 'utf8').catch(() => ''))
        .split('\n')
        .filter((line) => line.trim() !== '' && isAtOrBefore(line, resumeStep));
      await writeFile(path, kept.map((l) => `${l}\n`).join(''));
    }
    return new MetricsLog(path);
  }

  async append(records: readonly MetricsRecord[]): Promise<void> {
    if (records.length > 0)
      await appendFile(this.path, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  }

  /** All records in the file. */
  static async read(path: string): Promise<MetricsRecord[]> {
    const text = await readFile(path, 'utf8');
    return text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as MetricsRecord);
  }
}

function isAtOrBefore(line: string, step: number): boolean {
  try {
    return (JSON.parse(line) as MetricsRecord).step <= step;
  } catch {
    return false;
  }
}
