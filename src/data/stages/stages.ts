import {bucketStage} from './bucket-stage.js';
import {exactStage} from './exact-stage.js';
import {resolveStage} from './resolve-stage.js';
import type {StageResult} from './sign-stage.js';
import {signStage} from './sign-stage.js';
import {verifyStage} from './verify-stage.js';
import {writeStage} from './write-stage.js';

/** The stages of a sharded clean, in order; all but `resolve` run once per shard (or partition). */
export const STAGES = ['sign', 'exact', 'buckets', 'verify', 'resolve', 'write'] as const;
export type StageName = (typeof STAGES)[number];

/**
 * Runs one stage for one part: what `clean stage NAME --work DIR --shard i/n` does, and what each
 * worker process of `clean --workers` runs. A stage whose output exists returns at once (`ran:
 * false`) unless `force`; outputs appear whole (temp + rename), so after a crash the stage is run
 * again and writes the same bytes.
 */
export function runStage(
  name: StageName,
  work: string,
  part: number,
  options: {force?: boolean} = {},
): Promise<StageResult> {
  switch (name) {
    case 'sign':
      return signStage(work, part, options);
    case 'exact':
      return exactStage(work, part, options);
    case 'buckets':
      return bucketStage(work, part, options);
    case 'verify':
      return verifyStage(work, part, options);
    case 'resolve':
      return resolveStage(work, options);
    case 'write':
      return writeStage(work, part, options);
  }
}
