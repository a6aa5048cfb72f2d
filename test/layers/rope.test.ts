import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {applyRope, ropeTables} from '../../src/layers/rope.js';
import {expectClose, leakedTensors, rand} from './layer-test-utils.js';

beforeAll(async () => {
  await initBackend();
});

describe('RoPE', () => {
  it('position 0 is the identity and rotation keeps the norm', async () => {
    const x = rand([1, 2, 1, 8]) as tf.Tensor4D;
    await expectClose(applyRope(x, 0), x, 0);
    const moved = applyRope(rand([1, 2, 5, 8]) as tf.Tensor4D, 3);
    await expectClose(tf.norm(moved, 2, -1), tf.norm(rand([1, 2, 5, 8]), 2, -1), 1e-5);
  });

  it('turns pair (i, i + d/2) by pos · theta^(-2i/d)', async () => {
    const {cos, sin} = ropeTables(2, 1, 4, 100);
    // d = 4: frequencies 1 and 100^(-1/2) = 0.1, at position 2.
    await expectClose(cos, tf.tensor2d([[Math.cos(2), Math.cos(0.2), Math.cos(2), Math.cos(0.2)]]), 1e-6);
    await expectClose(sin, tf.tensor2d([[Math.sin(2), Math.sin(0.2), Math.sin(2), Math.sin(0.2)]]), 1e-6);
  });

  it('q·k depends only on the distance between positions', async () => {
    const q = rand([1, 1, 1, 8], 1) as tf.Tensor4D;
    const k = rand([1, 1, 1, 8], 2) as tf.Tensor4D;
    const dot = (pq: number, pk: number) => tf.sum(tf.mul(applyRope(q, pq), applyRope(k, pk)));
    await expectClose(dot(5, 2), dot(13, 10), 1e-5);
    expect(Math.abs(dot(5, 2).dataSync()[0]! - dot(5, 4).dataSync()[0]!)).toBeGreaterThan(1e-4);
  });

  it('an offset equals slicing a longer sequence', async () => {
    const x = rand([2, 3, 6, 4]) as tf.Tensor4D;
    const tail = applyRope(x.slice([0, 0, 4, 0], [-1, -1, 2, -1]) as tf.Tensor4D, 4);
    await expectClose(applyRope(x, 0).slice([0, 0, 4, 0], [-1, -1, 2, -1]), tail, 1e-6);
  });

  it('leaks no tensors', async () => {
    const x = rand([1, 2, 3, 4]) as tf.Tensor4D;
    expect(await leakedTensors(() => tf.dispose(applyRope(x, 7)))).toBe(0);
    x.dispose();
  });
});
