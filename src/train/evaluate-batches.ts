import * as tf from '@tensorflow/tfjs';
import {type BatchSource, disposeBatch} from './batch-source.js';
import type {LossFn, StepContext} from './train-options.js';

/**
 * Mean loss and metrics of `loss` over every batch of `source` (read as epoch 0), weighted by batch
 * size, named `val_loss`, `val_<metric>`. No gradients; one small read-back per batch.
 */
export async function evaluateBatches(
  source: BatchSource,
  loss: LossFn,
  ctx: StepContext,
): Promise<Record<string, number>> {
  const sums: Record<string, number> = {};
  let examples = 0;
  for (let i = 0; i < source.batchesPerEpoch; i++) {
    const batch = await source.batch(0, i);
    try {
      const named = tf.tidy(() => {
        const out = loss(batch, ctx);
        const o =
          out instanceof tf.Tensor ? {loss: out, metrics: {}} : {loss: out.loss, metrics: out.metrics ?? {}};
        return {
          names: ['loss', ...Object.keys(o.metrics)],
          values: tf.stack([o.loss, ...Object.values(o.metrics)]),
        };
      });
      const values = await named.values.data();
      named.values.dispose();
      for (const [k, name] of named.names.entries()) {
        sums[`val_${name}`] = (sums[`val_${name}`] ?? 0) + values[k]! * batch.size;
      }
      examples += batch.size;
    } finally {
      disposeBatch(batch);
    }
  }
  return Object.fromEntries(Object.entries(sums).map(([n, v]) => [n, v / Math.max(1, examples)]));
}
