import {RecordReader, writeRecords} from './record-file.js';
import type {StageResult} from './sign-stage.js';
import {doneBefore, startStage, workPaths} from './stage-plan.js';
import {EDGE_STRIDE} from './verify-stage.js';

/** A near duplicate: [its ordinal f64 | the kept row's ordinal f64 | its shard u32 | record u32 | Jaccard f32 | pad]. */
export const NEAR_STRIDE = 32;

/**
 * Stage 5, once: decides the near duplicates from the verified edges the way single-process
 * `clean` does as it streams: rows in input order, a row is a near duplicate when it has an edge to
 * an earlier row that was kept (then of the one with the best signature estimate), and a near
 * duplicate is never kept for a later row. Not a union-find over the edges: connected components
 * would remove a chain A≈B≈C with A≉C whole, which `clean` never does. State: the edges (32 bytes
 * each, as many as near-duplicate pairs) and the near duplicates found.
 */
export async function resolveStage(work: string, options: {force?: boolean} = {}): Promise<StageResult> {
  const started = performance.now();
  const {plan, paths, done} = await startStage(work, 'resolve', 0, (p) => p.near, options.force);
  if (done) return doneBefore('resolve', 0);
  const edges: {a: number; b: number; shard: number; record: number; similarity: number; estimate: number}[] =
    [];
  for (let p = 0; p < plan.shards; p++) {
    const reader = new RecordReader(paths.edges(p), EDGE_STRIDE);
    for (let v = reader.read(); v; v = reader.read()) {
      edges.push({
        a: v.getFloat64(0, true),
        b: v.getFloat64(8, true),
        shard: v.getUint32(16, true),
        record: v.getUint32(20, true),
        similarity: v.getFloat32(24, true),
        estimate: v.getFloat32(28, true),
      });
    }
    reader.close();
  }
  // By the later row, then best estimate first (clean checks candidates in that order), then the earlier row.
  edges.sort((x, y) => x.b - y.b || y.estimate - x.estimate || x.a - y.a);
  const removed = new Set<number>();
  let records = 0;
  await writeRecords(paths.near, async (out) => {
    for (let k = 0; k < edges.length; ) {
      const b = edges[k]!.b;
      let chosen: (typeof edges)[number] | undefined;
      for (; k < edges.length && edges[k]!.b === b; k++)
        if (!chosen && !removed.has(edges[k]!.a)) chosen = edges[k];
      if (!chosen) continue;
      removed.add(b);
      const v = await out.reserve(NEAR_STRIDE);
      v.setFloat64(0, b, true);
      v.setFloat64(8, chosen.a, true);
      v.setUint32(16, chosen.shard, true);
      v.setUint32(20, chosen.record, true);
      v.setFloat32(24, chosen.similarity, true);
      records++;
    }
  });
  return {
    stage: 'resolve',
    part: 0,
    ran: true,
    records,
    stateBytes: edges.length * 64 + removed.size * 16,
    seconds: (performance.now() - started) / 1000,
  };
}

/** A near duplicate's kept row. */
export interface NearDuplicate {
  kept: number;
  shard: number;
  record: number;
  similarity: number;
}

export function readNearDuplicates(work: string): Map<number, NearDuplicate> {
  const near = new Map<number, NearDuplicate>();
  const reader = new RecordReader(workPaths(work).near, NEAR_STRIDE);
  try {
    for (let v = reader.read(); v; v = reader.read()) {
      near.set(v.getFloat64(0, true), {
        kept: v.getFloat64(8, true),
        shard: v.getUint32(16, true),
        record: v.getUint32(20, true),
        similarity: v.getFloat32(24, true),
      });
    }
  } finally {
    reader.close();
  }
  return near;
}
