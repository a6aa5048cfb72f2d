import * as tf from '@tensorflow/tfjs';

export interface MatmulProbe {
  backend: string;
  size: number;
  /** Multiply-adds counted as 2 flops: 2·n³ per product. */
  gflops: number;
  runs: number;
  seconds: number;
}

/**
 * Times square fp32 matmuls on the active backend: one warm-up product (kernel selection, wasm
 * compilation), then products until `minSeconds` have passed. Reads the result back each time so
 * asynchronous backends are timed to completion.
 */
export async function probeMatmul(size: number, minSeconds = 0.5): Promise<MatmulProbe> {
  const a = tf.randomNormal([size, size], 0, 1, 'float32', 1);
  const b = tf.randomNormal([size, size], 0, 1, 'float32', 2);
  try {
    const once = async () => {
      const c = tf.matMul(a, b);
      await c.data();
      c.dispose();
    };
    await once();
    let runs = 0;
    const t0 = performance.now();
    let elapsed = 0;
    while (elapsed < minSeconds * 1000 || runs < 1) {
      await once();
      runs++;
      elapsed = performance.now() - t0;
    }
    const seconds = elapsed / 1000;
    return {backend: tf.getBackend(), size, gflops: (2 * size ** 3 * runs) / seconds / 1e9, runs, seconds};
  } finally {
    a.dispose();
    b.dispose();
  }
}
