import * as tf from '@tensorflow/tfjs';
import {describe, expect, it} from 'vitest';
import {BackendError, initBackend, parseBackendChoice} from '../../src/index.js';

const requireNative = process.env.DSK_REQUIRE_NATIVE === '1';

// A small product whose answer is known, so a backend that loads but computes wrong is caught.
async function checkMatmul(): Promise<void> {
  const a = tf.tensor2d([
    [1, 2],
    [3, 4],
  ]);
  const b = tf.tensor2d([
    [5, 6],
    [7, 8],
  ]);
  const c = tf.matMul(a, b);
  expect(Array.from(await c.data())).toEqual([19, 22, 43, 50]);
  tf.dispose([a, b, c]);
}

describe('initBackend', () => {
  it.runIf(requireNative)('auto lands on the native tensorflow backend (DSK_REQUIRE_NATIVE=1)', async () => {
    const info = await initBackend({backend: 'auto', requireNative: true});
    expect(info.name).toBe('tensorflow');
    expect(tf.getBackend()).toBe('tensorflow');
    await checkMatmul();
  });

  it('auto picks a working backend and says why', async () => {
    const warnings: string[] = [];
    const info = await initBackend({backend: 'auto', onWarning: (w) => warnings.push(w)});
    expect(info.attempts.at(-1)?.ok).toBe(true);
    expect(info.reason).toMatch(/^auto: /);
    // A fallback from native is never silent; the native backend gives no warning.
    expect(warnings.length).toBe(info.name === 'tensorflow' ? 0 : 1);
    await checkMatmul();
  });

  for (const choice of ['wasm', 'cpu'] as const) {
    it(`forced ${choice} backend loads and computes`, async () => {
      const info = await initBackend({backend: choice});
      expect(info).toMatchObject({name: choice, requested: choice});
      expect(tf.getBackend()).toBe(choice);
      await checkMatmul();
    });
  }

  it('an explicit backend that cannot load is an error that says how to install it', async () => {
    await expect(initBackend({backend: 'tensorflow-gpu'})).rejects.toThrow(/tfjs-node-gpu/);
    await expect(initBackend({backend: 'tensorflow-gpu'})).rejects.toBeInstanceOf(BackendError);
  });

  it('rejects unknown backend names, naming where they came from', () => {
    expect(() => parseBackendChoice('tpu')).toThrow(/--backend: unknown backend 'tpu'.*auto, tensorflow/);
    expect(() => parseBackendChoice('tpu', 'DSK_BACKEND')).toThrow(/^DSK_BACKEND/);
    expect(parseBackendChoice(' WASM ')).toBe('wasm');
  });
});
