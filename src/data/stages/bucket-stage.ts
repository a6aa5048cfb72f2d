import {readExactDuplicates} from './exact-stage.js';
import {grown, writeRecords} from './record-file.js';
import {SignFiles} from './sign-files.js';
import {SIGN_HEADER, type StageResult} from './sign-stage.js';
import {doneBefore, startStage} from './stage-plan.js';

/** A candidate pair: [ordinal a f64 | ordinal b f64 (a < b) | shard a u32 | record a u32 | shard b u32 | record b u32]. */
export const PAIR_STRIDE = 32;

/**
 * Stage 3, per bucket partition: every LSH band key of every row that reaches near dedup (kept by
 * the rules, not an exact duplicate, with shingles) whose key falls in partition `part`, sorted by
 * key; rows sharing a key become candidate pairs. The key is the band hash single-process `clean`
 * files its buckets under (the band index is mixed into it), so the candidates are the same. State:
 * 20 bytes per band entry of the partition — bands/n entries per row.
 */
export async function bucketStage(
  work: string,
  part: number,
  options: {force?: boolean} = {},
): Promise<StageResult> {
  const started = performance.now();
  const {plan, paths, done} = await startStage(work, 'buckets', part, (p) => p.pairs(part), options.force);
  if (done) return doneBefore('buckets', part);
  const near = plan.dedup === 'both' || plan.dedup === 'near';
  const exact = near ? readExactDuplicates(work, plan.shards) : new Map();
  const {bands} = plan.lsh;
  let key = new Int32Array(4096);
  let ordinal = new Float64Array(4096);
  let where = new Uint32Array(8192);
  let n = 0;
  const files = new SignFiles(plan, work);
  try {
    if (near) {
      files.forEach((r, v, shard, index) => {
        if (r.dropped || !r.shingles || exact.has(r.ordinal)) return;
        for (let b = 0; b < bands; b++) {
          const k = v.getInt32(SIGN_HEADER + 4 * b, true);
          if ((k >>> 0) % plan.shards !== part) continue;
          if (n === key.length) {
            key = grown(key);
            ordinal = grown(ordinal);
            where = grown(where);
          }
          key[n] = k;
          ordinal[n] = r.ordinal;
          where[2 * n] = shard;
          where[2 * n + 1] = index;
          n++;
        }
      });
    }
  } finally {
    files.close();
  }
  const order = Uint32Array.from({length: n}, (_, i) => i).sort(
    (a, b) => key[a]! - key[b]! || ordinal[a]! - ordinal[b]!,
  );
  let records = 0;
  await writeRecords(paths.pairs(part), async (out) => {
    for (let start = 0; start < n; ) {
      let end = start + 1;
      while (end < n && key[order[end]!] === key[order[start]!]) end++;
      for (let x = start; x < end; x++) {
        for (let y = x + 1; y < end; y++) {
          const a = order[x]!;
          const b = order[y]!;
          if (ordinal[a] === ordinal[b]) continue; // one row, two bands with the same key
          const v = await out.reserve(PAIR_STRIDE);
          v.setFloat64(0, ordinal[a]!, true);
          v.setFloat64(8, ordinal[b]!, true);
          v.setUint32(16, where[2 * a]!, true);
          v.setUint32(20, where[2 * a + 1]!, true);
          v.setUint32(24, where[2 * b]!, true);
          v.setUint32(28, where[2 * b + 1]!, true);
          records++;
        }
      }
      start = end;
    }
  });
  const stateBytes = key.byteLength + ordinal.byteLength + where.byteLength + order.byteLength;
  return {
    stage: 'buckets',
    part,
    ran: true,
    records,
    stateBytes,
    seconds: (performance.now() - started) / 1000,
  };
}
