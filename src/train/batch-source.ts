import type * as tf from '@tensorflow/tfjs';
import {hash32, Rng} from '../data/rng.js';

/** One batch, as tensors the trainer disposes after use. */
export interface Batch {
  /** Model inputs: token ids [batch, seq], features [batch, n], or several tensors. */
  inputs: tf.Tensor | tf.Tensor[];
  /** Labels: class ids [batch], next tokens [batch, seq]… */
  targets: tf.Tensor;
  /** Per-example weights [batch] (sample × class weights); the loss decides how to use them. */
  weights?: tf.Tensor;
  /** Examples in the batch. */
  size: number;
  /** Tokens the batch trains on, for tokens/s (defaults to `size`). */
  tokens?: number;
}

/**
 * Batches by position. `batch(epoch, index)` is a pure function of its arguments (the order of an
 * epoch comes from the seed and the epoch number), so a resumed run reads exactly the batches the
 * interrupted one would have, with no iterator state to save.
 */
export interface BatchSource {
  readonly batchesPerEpoch: number;
  batch(epoch: number, index: number): Batch | Promise<Batch>;
}

/** The seed that orders epoch `epoch` of a run seeded `seed`. */
export function epochOrderSeed(seed: number, epoch: number): number {
  return hash32(`epoch:${epoch}`, seed);
}

/** Row indices 0..n-1 in the order epoch `epoch` reads them: shuffled, or as is. */
export function epochOrder(n: number, seed: number, epoch: number, shuffle = true): number[] {
  const indices = Array.from({length: n}, (_, i) => i);
  return shuffle ? new Rng(epochOrderSeed(seed, epoch)).shuffled(indices) : indices;
}

export interface ArrayBatchSourceOptions<T> {
  batchSize: number;
  /** Run seed: orders the epochs. */
  seed: number;
  /** Reshuffle every epoch. Default true. */
  shuffle?: boolean;
  /** Drop a last batch smaller than `batchSize`. Default false. */
  dropLast?: boolean;
  /** Rows → tensors. */
  collate: (rows: T[]) => Omit<Batch, 'size'> & {size?: number};
}

/** A `BatchSource` over rows in memory. */
export function arrayBatchSource<T>(rows: readonly T[], options: ArrayBatchSourceOptions<T>): BatchSource {
  const {batchSize, seed} = options;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(`batch size must be ≥ 1, got ${batchSize}`);
  const full = Math.floor(rows.length / batchSize);
  const batchesPerEpoch = options.dropLast || rows.length % batchSize === 0 ? full : full + 1;
  let cached: {epoch: number; order: number[]} | undefined;
  return {
    batchesPerEpoch,
    batch(epoch, index) {
      if (index < 0 || index >= batchesPerEpoch) throw new RangeError(`batch ${index} of ${batchesPerEpoch}`);
      if (cached?.epoch !== epoch)
        cached = {epoch, order: epochOrder(rows.length, seed, epoch, options.shuffle ?? true)};
      const picked = cached.order.slice(index * batchSize, (index + 1) * batchSize).map((i) => rows[i]!);
      const batch = options.collate(picked);
      return {...batch, size: batch.size ?? picked.length};
    },
  };
}

/** Disposes a batch's tensors. */
export function disposeBatch(batch: Batch): void {
  const inputs = Array.isArray(batch.inputs) ? batch.inputs : [batch.inputs];
  for (const t of [...inputs, batch.targets, batch.weights]) t?.dispose();
}
