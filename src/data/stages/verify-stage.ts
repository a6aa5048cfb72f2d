import {CharShingler, jaccardOfSorted, sortDistinct} from '../dedup/char-shingles.js';
import {PAIR_STRIDE} from './bucket-stage.js';
import {RecordReader, RecordWriter} from './record-file.js';
import {SignFiles} from './sign-files.js';
import {SIGN_HEADER, type StageResult} from './sign-stage.js';
import {doneBefore, startStage} from './stage-plan.js';

/** A near-duplicate edge: [ordinal a f64 | ordinal b f64 (a < b) | shard a u32 | record a u32 | Jaccard f32 | estimate f32]. */
export const EDGE_STRIDE = 32;

/**
 * Stage 4, per partition: each candidate pair of `part` (once, however many bands it shared) is
 * checked as single-process `clean` checks a candidate: rejected when the 16-bit signature estimate
 * is more than the margin under the threshold, else kept when the Jaccard similarity of the two
 * texts' character shingle sets, computed exactly from the spool, reaches the threshold.
 */
export async function verifyStage(
  work: string,
  part: number,
  options: {force?: boolean} = {},
): Promise<StageResult> {
  const started = performance.now();
  const {plan, paths, done} = await startStage(work, 'verify', part, (p) => p.edges(part), options.force);
  if (done) return doneBefore('verify', part);
  const pairs = new RecordReader(paths.pairs(part), PAIR_STRIDE);
  const rows = pairs.records;
  const a = new Float64Array(rows);
  const b = new Float64Array(rows);
  const where = new Uint32Array(4 * rows);
  for (let i = 0, v = pairs.read(); v; v = pairs.read(), i++) {
    a[i] = v.getFloat64(0, true);
    b[i] = v.getFloat64(8, true);
    for (let k = 0; k < 4; k++) where[4 * i + k] = v.getUint32(16 + 4 * k, true);
  }
  pairs.close();
  const order = Uint32Array.from({length: rows}, (_, i) => i).sort((x, y) => a[x]! - a[y]! || b[x]! - b[y]!);
  const files = new SignFiles(plan, work);
  const floor = plan.threshold - plan.estimateMargin;
  const sigAt = SIGN_HEADER + 4 * plan.lsh.bands;
  const sigA = new Uint16Array(plan.numPerm);
  const left = new CharShingler(plan.ngram);
  const right = new CharShingler(plan.ngram);
  const out = await RecordWriter.open(paths.edges(part));
  let records = 0;
  try {
    for (let k = 0; k < rows; k++) {
      const i = order[k]!;
      if (k > 0 && a[order[k - 1]!] === a[i] && b[order[k - 1]!] === b[i]) continue;
      const ra = files.record(where[4 * i]!, where[4 * i + 1]!);
      for (let s = 0; s < plan.numPerm; s++) sigA[s] = ra.view.getUint16(sigAt + 2 * s, true);
      const textA = files.text(where[4 * i]!, ra.record);
      const rb = files.record(where[4 * i + 2]!, where[4 * i + 3]!);
      let same = 0;
      for (let s = 0; s < plan.numPerm; s++) if (sigA[s] === rb.view.getUint16(sigAt + 2 * s, true)) same++;
      const estimate = same / plan.numPerm;
      if (estimate < floor) continue;
      const similarity = jaccard(left, textA, right, files.text(where[4 * i + 2]!, rb.record));
      if (similarity < plan.threshold) continue;
      const v = await out.reserve(EDGE_STRIDE);
      v.setFloat64(0, a[i]!, true);
      v.setFloat64(8, b[i]!, true);
      v.setUint32(16, where[4 * i]!, true);
      v.setUint32(20, where[4 * i + 1]!, true);
      v.setFloat32(24, similarity, true);
      v.setFloat32(28, estimate, true);
      records++;
    }
    await out.commit();
  } catch (error) {
    await out.abort();
    throw error;
  } finally {
    files.close();
  }
  const stateBytes = a.byteLength + b.byteLength + where.byteLength + order.byteLength;
  return {
    stage: 'verify',
    part,
    ran: true,
    records,
    stateBytes,
    seconds: (performance.now() - started) / 1000,
  };
}

function jaccard(left: CharShingler, a: string, right: CharShingler, b: string): number {
  const na = sortDistinct(left.hashes, left.shingle(a));
  const nb = sortDistinct(right.hashes, right.shingle(b));
  return jaccardOfSorted(left.hashes, na, right.hashes, nb);
}
