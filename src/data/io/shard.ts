import {UserError} from '../../errors.js';

/** Shard `index` of `count` (0 ≤ index < count): the rows whose ordinal ≡ index (mod count). */
export interface ShardSpec {
  index: number;
  count: number;
}

/**
 * Parses `i/n` (`--shard 3/16`). The assignment is by row ordinal, round robin — a JSONL or
 * one-per-line text row's ordinal is its line number − 1, so a shard skips the other shards'
 * lines without parsing them; a CSV row's or paragraph's is its index among the rows — so it
 * depends only on the input and `n`, never on timing or the machine.
 */
export function parseShard(spec: string): ShardSpec {
  const m = /^(\d+)\/(\d+)$/.exec(spec.trim());
  const index = m ? Number(m[1]) : Number.NaN;
  const count = m ? Number(m[2]) : Number.NaN;
  if (!(count >= 1 && index >= 0 && index < count)) {
    throw new UserError(
      `--shard ${spec}: expected i/n with 0 <= i < n`,
      'e.g. --shard 0/4 … --shard 3/4 for four workers (a scheduler array index is i)',
    );
  }
  return {index, count};
}

/** True when row `ordinal` belongs to `shard` (every row does without one). */
export function inShard(ordinal: number, shard: ShardSpec | undefined): boolean {
  return shard === undefined || ordinal % shard.count === shard.index;
}
