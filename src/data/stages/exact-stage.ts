import {grown, RecordReader, writeRecords} from './record-file.js';
import {SignFiles} from './sign-files.js';
import type {StageResult} from './sign-stage.js';
import {doneBefore, startStage, workPaths} from './stage-plan.js';

/** An exact duplicate: [its ordinal f64 | the first row's ordinal f64 | that row's shard u32 | record u32]. */
export const EXACT_STRIDE = 24;

/**
 * Stage 2, per hash partition: the rows the rules keep whose normalized-text hash falls in
 * partition `part` (hash mod shards), grouped by hash; the first row of a group (lowest ordinal,
 * as single-process `clean` keeps the first) stays, the others are written as its duplicates.
 * State: 24 bytes per row of the partition — 1/n of the corpus's.
 */
export async function exactStage(
  work: string,
  part: number,
  options: {force?: boolean} = {},
): Promise<StageResult> {
  const started = performance.now();
  const {plan, paths, done} = await startStage(work, 'exact', part, (p) => p.exact(part), options.force);
  if (done) return doneBefore('exact', part);
  const files = new SignFiles(plan, work);
  let hi = new Uint32Array(1024);
  let lo = new Uint32Array(1024);
  let ordinal = new Float64Array(1024);
  let where = new Uint32Array(2048); // [shard, record] per row
  let n = 0;
  try {
    if (plan.dedup === 'both' || plan.dedup === 'exact') {
      files.forEach((r, _v, shard, index) => {
        if (r.dropped || r.hashHi % plan.shards !== part) return;
        if (n === hi.length) [hi, lo, ordinal, where] = [grown(hi), grown(lo), grown(ordinal), grown(where)];
        hi[n] = r.hashHi;
        lo[n] = r.hashLo;
        ordinal[n] = r.ordinal;
        where[2 * n] = shard;
        where[2 * n + 1] = index;
        n++;
      });
    }
  } finally {
    files.close();
  }
  const order = Uint32Array.from({length: n}, (_, i) => i).sort(
    (a, b) => hi[a]! - hi[b]! || lo[a]! - lo[b]! || ordinal[a]! - ordinal[b]!,
  );
  let records = 0;
  await writeRecords(paths.exact(part), async (out) => {
    for (let k = 0, first = -1; k < n; k++) {
      const i = order[k]!;
      if (first === -1 || hi[i] !== hi[first] || lo[i] !== lo[first]) {
        first = i;
        continue;
      }
      const v = await out.reserve(EXACT_STRIDE);
      v.setFloat64(0, ordinal[i]!, true);
      v.setFloat64(8, ordinal[first]!, true);
      v.setUint32(16, where[2 * first]!, true);
      v.setUint32(20, where[2 * first + 1]!, true);
      records++;
    }
  });
  const stateBytes = hi.byteLength + lo.byteLength + ordinal.byteLength + where.byteLength + order.byteLength;
  return {
    stage: 'exact',
    part,
    ran: true,
    records,
    stateBytes,
    seconds: (performance.now() - started) / 1000,
  };
}

/** An exact duplicate row and the first row of its group. */
export interface ExactDuplicate {
  first: number;
  shard: number;
  record: number;
}

/** The exact duplicates of every partition whose own ordinal `keep` accepts. */
export function readExactDuplicates(
  work: string,
  shards: number,
  keep: (ordinal: number) => boolean = () => true,
) {
  const dups = new Map<number, ExactDuplicate>();
  for (let p = 0; p < shards; p++) {
    const reader = new RecordReader(workPaths(work).exact(p), EXACT_STRIDE);
    try {
      for (let v = reader.read(); v; v = reader.read()) {
        const ordinal = v.getFloat64(0, true);
        if (!keep(ordinal)) continue;
        dups.set(ordinal, {
          first: v.getFloat64(8, true),
          shard: v.getUint32(16, true),
          record: v.getUint32(20, true),
        });
      }
    } finally {
      reader.close();
    }
  }
  return dups;
}
