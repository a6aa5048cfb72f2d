import {Cleaner} from '../cleaner.js';
import {exactDedupHash} from '../dedup/exact-dedup.js';
import {NearSigner} from '../dedup/near-dedup.js';
import type {Doc} from '../doc.js';
import {readOrderedBatches} from '../io/read-docs.js';
import {RecordWriter} from './record-file.js';
import {doneBefore, type StagePlan, shardOf, startStage} from './stage-plan.js';

/**
 * One record per row of a shard, in row order: [ordinal f64 | dropped by a rule u8 | has shingles
 * u8 | pad u16 | exact hash lo u32, hi u32 | spool offset f64 | id bytes u32 | text bytes u32 |
 * band keys i32 × bands | signature u16 × numPerm] — 372 bytes at 20 bands and 128 values. The
 * spool holds the id and the text (after the rules' fixes) of each row the rules keep.
 */
export const SIGN_HEADER = 36;
export const signStride = (plan: StagePlan) => SIGN_HEADER + 4 * plan.lsh.bands + 2 * plan.numPerm;

export interface SignRecord {
  ordinal: number;
  dropped: boolean;
  shingles: boolean;
  hashLo: number;
  hashHi: number;
  spoolOffset: number;
  idBytes: number;
  textBytes: number;
}

export function readSignRecord(v: DataView): SignRecord {
  return {
    ordinal: v.getFloat64(0, true),
    dropped: v.getUint8(8) === 1,
    shingles: v.getUint8(9) === 1,
    hashLo: v.getUint32(12, true),
    hashHi: v.getUint32(16, true),
    spoolOffset: v.getFloat64(20, true),
    idBytes: v.getUint32(28, true),
    textBytes: v.getUint32(32, true),
  };
}

export interface StageResult {
  stage: string;
  part: number;
  /** False when the outputs were there already (a re-run after success does nothing). */
  ran: boolean;
  /** Records (rows, pairs, edges) written. */
  records: number;
  /** Bytes of state the stage held in memory at its peak (tables and sorted arrays), where it has some. */
  stateBytes: number;
  seconds: number;
  /** Peak resident memory of the process that ran the stage (its own worker under `clean --workers`). */
  peakRssBytes?: number;
}

/**
 * Stage 1, per shard: reads shard `part`'s rows, runs the quality rules and fixes, and writes one
 * record per row — the rules' verdict, the exact-dedup hash of the normalized text, and the near
 * dedup signature and LSH band keys — plus the spool of kept ids and texts.
 */
export async function signStage(
  work: string,
  part: number,
  options: {force?: boolean} = {},
): Promise<StageResult> {
  const started = performance.now();
  const {plan, paths, done} = await startStage(work, 'sign', part, (p) => p.sign(part), options.force);
  if (done) return doneBefore('sign', part);
  const cleaner = new Cleaner({filters: plan.filters, mode: 'none'});
  const signer = new NearSigner(plan.lsh, plan.numPerm, plan.ngram, plan.seed);
  const near = plan.dedup === 'both' || plan.dedup === 'near';
  const hash = new Uint32Array(2);
  const stride = signStride(plan);
  const spool = await RecordWriter.open(paths.spool(part));
  const out = await RecordWriter.open(paths.sign(part));
  let records = 0;
  try {
    const batches = readOrderedBatches({
      input: plan.input,
      format: plan.format,
      docSep: plan.docSep,
      ...plan.fields,
      onError: plan.onError,
      shard: shardOf(plan, part),
    });
    for await (const {docs, ordinals} of batches) {
      for (const [i, doc] of docs.entries()) {
        const kept = cleaner.applyRules(doc);
        const v = await out.reserve(stride);
        records++;
        v.setFloat64(0, ordinals[i]!, true);
        if ('keep' in kept) {
          v.setUint8(8, 1);
          continue;
        }
        await writeKept(v, kept as Doc);
      }
    }
    await spool.commit();
    await out.commit();
  } catch (error) {
    await spool.abort();
    await out.abort();
    throw error;
  }
  return {
    stage: 'sign',
    part,
    ran: true,
    records,
    stateBytes: 0,
    seconds: (performance.now() - started) / 1000,
  };

  async function writeKept(v: DataView, doc: Doc): Promise<void> {
    exactDedupHash(doc.text, plan.normalize, hash);
    v.setUint32(12, hash[0]!, true);
    v.setUint32(16, hash[1]!, true);
    const id = Buffer.from(doc.id);
    const text = Buffer.from(doc.text);
    v.setFloat64(20, spool.written, true);
    v.setUint32(28, id.length, true);
    v.setUint32(32, text.length, true);
    await spool.append(id);
    await spool.append(text);
    if (!near || signer.sign(doc.text) === 0) return;
    v.setUint8(9, 1);
    const {bands} = plan.lsh;
    for (let b = 0; b < bands; b++) v.setInt32(SIGN_HEADER + 4 * b, signer.bandHashes[b]!, true);
    const base = SIGN_HEADER + 4 * bands;
    for (let k = 0; k < plan.numPerm; k++) v.setUint16(base + 2 * k, signer.sig[k]! & 0xffff, true);
  }
}
