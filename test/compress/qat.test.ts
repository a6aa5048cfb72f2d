import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {fakeQuantize, QuantAwareTraining} from '../../src/compress/qat.js';
import {quantizeModel} from '../../src/compress/quantize-model.js';
import type {EncodeOptions} from '../../src/compress/weight-codec.js';
import {arrayBatchSource, type Batch} from '../../src/train/batch-source.js';
import {sparseCrossEntropy} from '../../src/train/losses.js';
import type {LossFn, TrainHook} from '../../src/train/train-options.js';
import {trainableFromLayersModel} from '../../src/train/trainable.js';
import {train} from '../../src/train/trainer.js';

function tinyModel(): tf.LayersModel {
  const input = tf.input({shape: [6]});
  const h = tf.layers
    .dense({
      units: 5,
      activation: 'tanh',
      name: 'hidden',
      kernelInitializer: tf.initializers.glorotUniform({seed: 3}),
    })
    .apply(input) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({units: 3, name: 'out', kernelInitializer: tf.initializers.glorotUniform({seed: 4})})
    .apply(h) as tf.SymbolicTensor;
  return tf.model({inputs: input, outputs: out});
}

const rows = Array.from({length: 32}, (_, i) => ({
  x: Array.from({length: 6}, (_, j) => Math.sin(i * 1.7 + j * 0.9)),
  y: i % 3,
}));

const collate = (picked: typeof rows): Batch => ({
  inputs: tf.tensor2d(picked.map((r) => r.x)),
  targets: tf.tensor1d(
    picked.map((r) => r.y),
    'int32',
  ),
  size: picked.length,
});

const lossOf =
  (model: tf.LayersModel): LossFn =>
  (batch) =>
    sparseCrossEntropy(model.apply(batch.inputs as tf.Tensor) as tf.Tensor, batch.targets);

const kernel = (model: tf.LayersModel, name: string) =>
  model.getLayer(name).getWeights()[0]!.dataSync() as Float32Array;

describe('quantization-aware training', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('fake-quantizes a weight to exactly what the quantized model loads', async () => {
    const model = tinyModel();
    const options: EncodeOptions = {dtype: 'int4'};
    const {model: loaded} = await quantizeModel(model, options);
    const w = model.getLayer('hidden').getWeights()[0]!;
    const q = fakeQuantize(
      {name: 'hidden/kernel', shape: w.shape, dtype: 'float32', data: w.dataSync() as Float32Array},
      options,
    )!;
    expect(Array.from(q)).toEqual(Array.from(kernel(loaded, 'hidden')));
    expect(Array.from(q)).not.toEqual(Array.from(w.dataSync()));
    expect(
      fakeQuantize({name: 'out/bias', shape: [3], dtype: 'float32', data: new Float32Array(3)}, options),
    ).toBe(undefined);
    model.dispose();
    loaded.dispose();
  });

  it('runs training forward passes on quantized weights and updates the float masters (straight-through)', async () => {
    const options: EncodeOptions = {dtype: 'int4'};
    const model = tinyModel();
    const qat = new QuantAwareTraining(model, options);
    expect(qat.weightNames.sort()).toEqual(['hidden/kernel', 'out/kernel']);
    const master = kernel(model, 'hidden').slice();
    const onGrid = fakeQuantize(
      {name: 'hidden/kernel', shape: [6, 5], dtype: 'float32', data: master},
      options,
    )!;

    // The gradient a straight-through estimator applies: the loss's gradient at the quantized weights.
    const reference = tinyModel();
    reference
      .getLayer('hidden')
      .setWeights([tf.tensor2d(onGrid, [6, 5]), reference.getLayer('hidden').getWeights()[1]!]);
    const outQ = reference.getLayer('out').getWeights();
    const outOnGrid = fakeQuantize(
      {name: 'out/kernel', shape: [5, 3], dtype: 'float32', data: outQ[0]!.dataSync() as Float32Array},
      options,
    )!;
    reference.getLayer('out').setWeights([tf.tensor2d(outOnGrid, [5, 3]), outQ[1]!]);
    const seen: Float32Array[] = [];
    const inner = lossOf(model);
    const before = tf.memory().numTensors;
    const run = (m: tf.LayersModel, loss: LossFn, hooks: TrainHook[] = []) =>
      train({
        model: trainableFromLayersModel(m),
        data: arrayBatchSource(rows, {batchSize: 32, seed: 1, shuffle: false, collate}),
        loss,
        hooks,
        steps: 1,
        lr: 0.05,
        optimizer: {weightDecay: 0},
      });
    await run(
      model,
      (b, ctx) => {
        seen.push(kernel(model, 'hidden').slice());
        return inner(b, ctx);
      },
      [qat.hook],
    );
    expect(Array.from(seen[0]!)).toEqual(Array.from(onGrid));
    // The same step taken by a plain model that holds the quantized weights: the QAT model must move
    // its float masters by exactly the same amounts.
    await run(reference, lossOf(reference));
    const moved = kernel(model, 'hidden').map((v, i) => v - master[i]!);
    const movedRef = kernel(reference, 'hidden').map((v, i) => v - onGrid[i]!);
    for (let i = 0; i < moved.length; i++) expect(moved[i]).toBeCloseTo(movedRef[i]!, 6);
    expect(moved.some((d) => Math.abs(d) > 1e-3)).toBe(true);
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before);
    model.dispose();
    reference.dispose();
  });

  it('evaluates on the quantized weights and restores the float weights right after', () => {
    const model = tinyModel();
    const master = kernel(model, 'hidden').slice();
    const qat = new QuantAwareTraining(model, {dtype: 'int8'});
    const batch = collate(rows.slice(0, 4));
    qat.hook.beforeEval?.();
    const inside = kernel(model, 'hidden').slice();
    const loss = lossOf(model)(batch, {training: false, step: 0, epoch: 0, seed: 0});
    qat.hook.afterEval?.();
    expect(Array.from(inside)).not.toEqual(Array.from(master));
    expect(Array.from(kernel(model, 'hidden'))).toEqual(Array.from(master));
    tf.dispose([loss as tf.Scalar, batch.inputs as tf.Tensor, batch.targets]);
    model.dispose();
  });

  it('rejects float16, which needs no quantization-aware training', () => {
    const model = tinyModel();
    expect(() => new QuantAwareTraining(model, {dtype: 'float16'})).toThrow(/int8, int4, uint8.*float16/);
    model.dispose();
  });
});
