import {mkdir} from 'node:fs/promises';
import {join} from 'node:path';
import {ModelError} from '../errors.js';
import {
  type CheckpointContent,
  type LoadedCheckpoint,
  listCheckpoints,
  loadLatestCheckpoint,
  saveCheckpoint,
} from './checkpoint.js';
import {MetricsLog} from './metrics-log.js';
import type {TrainOptions} from './train-options.js';

/**
 * A training run's folder: opened fresh (refused when it already holds a run) or resumed from its
 * latest checkpoint, then checkpointed as the run goes. Remembers the newest checkpoint, which a
 * diverged run names as the one to resume from.
 */
export class RunCheckpoints {
  /** Path of the newest checkpoint, written or resumed from. */
  last?: string;
  /** Step of the newest checkpoint, -1 before any. */
  lastStep = -1;

  constructor(
    private readonly runDir: string,
    private readonly o: Pick<TrainOptions, 'resume' | 'keepCheckpoints' | 'onCheckpoint'>,
  ) {}

  /**
   * Opens the folder: checks that a new run has it to itself, or loads the checkpoint a resumed one
   * continues from (the caller restores it, then opens metrics.jsonl at its step with `openLog`).
   */
  async open(): Promise<LoadedCheckpoint | undefined> {
    const existing = await listCheckpoints(this.runDir);
    if (!this.o.resume) {
      await mkdir(this.runDir, {recursive: true});
      if (existing.length > 0) {
        throw new ModelError(
          `${this.runDir} already holds a run (checkpoints up to step ${existing.at(-1)})`,
          'resume it, or train into a new folder',
        );
      }
      return undefined;
    }
    const ckpt = await loadLatestCheckpoint(this.runDir);
    if (!ckpt)
      throw new ModelError(
        `${this.runDir} has no checkpoint to resume from`,
        'start it again with --overwrite instead of --resume',
      );
    this.last = ckpt.path;
    this.lastStep = ckpt.state.step;
    return ckpt;
  }

  /** metrics.jsonl, cut back to `resumeStep` when resuming. */
  openLog(resumeStep?: number): Promise<MetricsLog> {
    return MetricsLog.open(join(this.runDir, 'metrics.jsonl'), resumeStep);
  }

  /** Writes a checkpoint of `content` (once per step) and tells `onCheckpoint`. */
  async save(content: CheckpointContent): Promise<void> {
    const step = content.state.step;
    if (this.lastStep === step) return;
    const path = await saveCheckpoint(this.runDir, content, this.o.keepCheckpoints ?? 3);
    this.last = path;
    this.lastStep = step;
    this.o.onCheckpoint?.({step, path});
  }
}
