import * as tf from '@tensorflow/tfjs';
import {describe, expect, it} from 'vitest';
import {initBackend} from '../../../src/backend/backend.js';
import {planDispatch} from '../../../src/layers/moe/dispatch-plan.js';
import {sparseDispatch} from '../../../src/layers/moe/expert-dispatch.js';
import type {ExpertWeights} from '../../../src/layers/moe/expert-ffn.js';
import {groupedMatMul, groupedMatMulAvailable} from '../../../src/layers/moe/grouped-matmul.js';
import {leakedTensors, maxAbsDiff, rand} from '../layer-test-utils.js';

// Before describe.skipIf reads it: which backend runs is known only once it is initialised.
await initBackend();

/** Each expert's rows times its matrix with plain tfjs ops: slices, tf.matMul, concat. */
function reference(x: tf.Tensor2D, w: tf.Tensor3D, counts: number[]): tf.Tensor2D {
  let offset = 0;
  const parts = counts.flatMap((n, e) => {
    const rows = tf.slice(x, [offset, 0], [n, -1]);
    offset += n;
    return n > 0
      ? [tf.matMul(rows, tf.squeeze(tf.slice(w, [e, 0, 0], [1, -1, -1]), [0]) as tf.Tensor2D)]
      : [];
  });
  return tf.concat(parts) as tf.Tensor2D;
}

/** Value and gradients of sum(f(...inputs)·probe) w.r.t. every input. */
function valueAndGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], probe: tf.Tensor) {
  const y = f(...inputs);
  const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), probe)))(inputs);
  return {y, grads};
}

describe.skipIf(!groupedMatMulAvailable())('groupedMatMul (tfjs-node)', () => {
  it('equals per-expert products, values and gradients, with an expert without rows', async () => {
    const counts = [3, 0, 5, 1];
    const x = rand([9, 4], 1) as tf.Tensor2D;
    const w = rand([4, 4, 6], 2) as tf.Tensor3D;
    const probe = rand([9, 6], 3);
    const ours = valueAndGrads(
      (a, b) => groupedMatMul(a as tf.Tensor2D, b as tf.Tensor3D, Int32Array.from(counts)),
      [x, w],
      probe,
    );
    const ref = valueAndGrads((a, b) => reference(a as tf.Tensor2D, b as tf.Tensor3D, counts), [x, w], probe);
    expect(await maxAbsDiff(ours.y, ref.y)).toBeLessThanOrEqual(1e-5);
    expect(await maxAbsDiff(ours.grads[0]!, ref.grads[0]!)).toBeLessThanOrEqual(1e-5);
    // Expert 1 has no rows: its gradient is zero, not missing.
    expect(await maxAbsDiff(ours.grads[1]!, ref.grads[1]!)).toBeLessThanOrEqual(1e-5);
    tf.dispose([x, w, probe, ours.y, ours.grads, ref.y, ref.grads]);
  });

  it('runs the sparse dispatch grouped with the results of the padded chunks, gradients and LoRA included', async () => {
    // 200 tokens, k = 2, 4 experts, skewed: expert 0 is busy (chunked plans split it), expert 3 idle.
    const numTokens = 200;
    const indices = Int32Array.from({length: numTokens * 2}, (_, i) =>
      i % 2 === 0 ? 0 : 1 + (i % 3 === 0 ? 1 : 0),
    );
    const experts: ExpertWeights = {
      gate: rand([4, 6, 5], 4),
      up: rand([4, 6, 5], 5),
      down: rand([4, 5, 6], 6),
    };
    const x = rand([numTokens, 6], 7) as tf.Tensor2D;
    const probe = rand([numTokens, 6], 8);
    // A LoRA adapter of rank 2 on each expert's down projection, stacked as the weights are.
    const loraA = rand([4, 5, 2], 9);
    const loraB = rand([4, 2, 6], 10);
    for (const [capacity, withLoRA] of [
      [null, false],
      [150, false],
      [null, true],
    ] as const) {
      const run = (layout: 'chunks' | 'grouped') => {
        const plan = planDispatch(indices, numTokens, 2, 4, capacity, layout);
        // Gate weight of each row (0 for padding), as routeRows gives it.
        const weights = Float32Array.from(plan.rowChoice, (c) => (c >= 0 ? 0.25 + (c % 5) / 10 : 0));
        const rowWeights = tf.tensor2d(weights, [weights.length, 1]);
        const f = (xx: tf.Tensor, g: tf.Tensor, u: tf.Tensor, dn: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => {
          const w: ExpertWeights = {gate: g, up: u, down: dn};
          if (withLoRA) w.lora = {down: {a, b, scale: 0.5, dropout: 0}};
          return sparseDispatch(xx as tf.Tensor2D, rowWeights, plan, w, 'swiglu');
        };
        const inputs = [x, experts.gate!, experts.up, experts.down, ...(withLoRA ? [loraA, loraB] : [])];
        const out = valueAndGrads(f as (...xs: tf.Tensor[]) => tf.Tensor, inputs, probe);
        rowWeights.dispose();
        return {plan, ...out};
      };
      const chunks = run('chunks');
      const grouped = run('grouped');
      expect(chunks.plan.chunkExpert).not.toBeNull(); // the reference did split the busy expert
      expect(grouped.plan.tokenIndex.length).toBe(grouped.plan.counts.reduce((a, b) => a + b, 0)); // no padding
      expect(await maxAbsDiff(grouped.y, chunks.y)).toBeLessThanOrEqual(1e-5);
      for (let i = 0; i < (withLoRA ? 6 : 4); i++) {
        expect(await maxAbsDiff(grouped.grads[i]!, chunks.grads[i]!), `input ${i}`).toBeLessThanOrEqual(1e-5);
      }
      tf.dispose([chunks.y, chunks.grads, grouped.y, grouped.grads]);
    }
    tf.dispose([x, probe, experts.gate!, experts.up, experts.down, loraA, loraB]);
  });

  it('leaks no tensor, in inference and under a gradient', async () => {
    const x = rand([6, 3], 9) as tf.Tensor2D;
    const w = rand([2, 3, 4], 10) as tf.Tensor3D;
    const counts = Int32Array.from([2, 4]);
    const leaked = await leakedTensors(() => {
      tf.dispose(groupedMatMul(x, w, counts));
      tf.dispose(
        tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(groupedMatMul(a as tf.Tensor2D, b as tf.Tensor3D, counts)),
        )([x, w]),
      );
    });
    expect(leaked).toBe(0);
    tf.dispose([x, w]);
  });
});
