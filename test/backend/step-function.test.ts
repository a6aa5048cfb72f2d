import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {F32, nativeOps} from '../../src/backend/native-ops.js';
import {NativeVariable} from '../../src/backend/native-variable.js';
import {StaleCaptureError, StepFunction} from '../../src/backend/step-function.js';
import {canCaptureSteps, compareRecords, recordStep} from '../../src/backend/step-record.js';

// The recorder and the GraphDef it writes, on ops whose attributes cover each encoding: a list
// input (ConcatV2's N), negative ints (axes), a float (LeakyRelu's alpha), bools, a shape, a type
// list, values written from JS (Consts) and a resource variable updated in place.
beforeAll(async () => {
  await initBackend();
});

/** A step with each kind of attribute; `v` is read, updated with x's mean, and read again. */
function step(x: tf.Tensor, v: NativeVariable): tf.Tensor[] {
  const ops = nativeOps('adamw')!;
  return tf.tidy(() => {
    const y = tf.concat([x, tf.leakyRelu(x, 0.3), tf.mul(x, tf.scalar(2))], -1); // [2, 9]
    const s = tf.squeeze(tf.sum(y, -1, true), [-1]); // [2]
    const m = tf.matMul(y, y, false, true); // [2, 2]
    const before = v.read();
    ops.run('AssignAddVariableOp', {dtype: F32}, [v.handle, tf.mean(s)], 0);
    return [s, m, tf.add(before, 0), v.read()];
  });
}

describe('step capture', () => {
  it('replays a recorded step with the eager results', () => {
    if (!canCaptureSteps()) return;
    const start = tf.memory().numTensors;
    const zero = tf.scalar(0);
    const v = new NativeVariable(nativeOps('adamw')!, zero);
    zero.dispose();
    const x = tf.tensor2d([
      [1, -2, 3],
      [-4, 5, -6],
    ]);
    tf.dispose(step(x, v)); // first use: kept scalars reach TensorFlow
    const a = recordStep([x], () => step(x, v));
    const b = recordStep([x], () => step(x, v));
    expect(a.record.violation).toBeUndefined();
    expect(compareRecords(a.record, b.record)).toBeUndefined();
    const graph = StepFunction.fromRecord(b.record);
    const eagerOut = step(x, v);
    const replayOut = graph.call([x]);
    const eager = eagerOut.map((t) => Array.from(t.dataSync()));
    const replayed = replayOut.map((t) => Array.from(t.dataSync()));
    // The variable moved by mean(s) once more between the eager step and the replay.
    const delta = eager[0]!.reduce((p, q) => p + q) / 2;
    expect(replayed.slice(0, 2)).toEqual(eager.slice(0, 2));
    expect(replayed[2]![0]).toBeCloseTo(eager[2]![0]! + delta, 4);
    expect(replayed[3]![0]).toBeCloseTo(eager[3]![0]! + delta, 4);
    // Read before the update, then after: the control edges keep program order.
    expect(replayed[3]![0]! - replayed[2]![0]!).toBeCloseTo(delta, 4);
    tf.dispose([...a.outputs, ...b.outputs, ...eagerOut, ...replayOut]);
    x.dispose();
    v.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it('says why a record cannot be replayed', () => {
    if (!canCaptureSteps()) return;
    const x = tf.tensor1d([1, 2, 3]);
    const read = recordStep([x], () => [tf.mul(x, tf.scalar(x.dataSync()[0]!))]);
    expect(read.record.violation).toMatch(/reads a tensor back/);
    const k = [1];
    const twice = () => recordStep([x], () => [tf.mul(x, tf.scalar(k[0]!++))]);
    const first = twice();
    const second = twice();
    expect(compareRecords(first.record, second.record)).toMatch(
      /changes between steps \(random numbers drawn in JS.*passes such values as inputs\)/,
    );
    let cache: tf.Tensor | undefined;
    const kept = recordStep([x], () => {
      cache = tf.keep(tf.neg(x));
      return [tf.add(x, 1)];
    });
    expect(() => StepFunction.fromRecord(kept.record)).toThrow(/keeps 1 tensor/);
    tf.dispose([x, cache!, ...read.outputs, ...first.outputs, ...second.outputs, ...kept.outputs]);
  });

  it('refuses a replay whose captured tensor is gone, having run nothing', () => {
    if (!canCaptureSteps()) return;
    const x = tf.tensor1d([1, 2, 3]);
    const c = tf.tensor1d([4, 5, 6]);
    tf.dispose(tf.add(c, 0)); // c reaches TensorFlow before the step: a capture, not a Const
    const {record, outputs} = recordStep([x], () => [tf.mul(x, c)]);
    const graph = StepFunction.fromRecord(record);
    const out = graph.call([x]);
    expect(Array.from(out[0]!.dataSync())).toEqual([4, 10, 18]);
    c.dispose();
    expect(() => graph.call([x])).toThrow(StaleCaptureError);
    graph.dispose();
    tf.dispose([x, ...outputs, ...out]);
  });
});
