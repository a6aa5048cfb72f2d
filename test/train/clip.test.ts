import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {withComposedOps} from '../../src/backend/native-ops.js';
import {clipByGlobalNorm, globalNorm} from '../../src/train/clip.js';

beforeAll(async () => {
  await initBackend();
});

describe('clipByGlobalNorm', () => {
  it('the global norm is the norm of all gradients as one vector', () => {
    const grads = [tf.tensor1d([3, 0]), tf.tensor2d([[0, 4]])];
    const norm = globalNorm(grads);
    expect(norm.dataSync()[0]).toBeCloseTo(5, 5);
    tf.dispose([norm, ...grads]);
  });

  it('the native norm (L2Loss per gradient) equals the composed one', () => {
    const grads = [tf.randomNormal([64, 32], 0, 1, 'float32', 1), tf.randomNormal([7], 0, 1, 'float32', 2)];
    const [fused, composed] = [globalNorm(grads), withComposedOps(() => globalNorm(grads))];
    expect(Math.abs(fused.dataSync()[0]! - composed.dataSync()[0]!)).toBeLessThan(
      1e-5 * composed.dataSync()[0]!,
    );
    tf.dispose([fused, composed, ...grads]);
  });

  it('scales a large gradient down to the maximum norm, keeping its direction; leaves a small one alone', () => {
    const before = tf.memory().numTensors;
    for (const [values, max, expected] of [
      [[6, 8], 1, [0.6, 0.8]],
      [[0.3, 0.4], 1, [0.3, 0.4]],
    ] as const) {
      const g = [tf.tensor1d([...values])];
      const {grads, norm} = clipByGlobalNorm(g, max);
      for (const [i, x] of Array.from(grads[0]!.dataSync()).entries()) expect(x).toBeCloseTo(expected[i]!, 5);
      expect(norm.dataSync()[0]).toBeCloseTo(Math.hypot(...values), 5);
      tf.dispose([...g, ...grads, norm]);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
