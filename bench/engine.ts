// npm run bench:engine [-- --json] [-- --backend wasm]: optimizer steps per second of the training
// engine (AdamW, losses read back every 10 steps; then also clipping and an accuracy metric) on two
// MLPs, next to tfjs's own `tf.train.adam().minimize` on the same batches: the engine's overhead.
import * as tf from '@tensorflow/tfjs';
import {initBackend} from '../src/backend/backend.js';
import {arrayBatchSource, type Batch} from '../src/train/batch-source.js';
import {accuracy, sparseCrossEntropy} from '../src/train/losses.js';
import {trainableFromLayersModel} from '../src/train/trainable.js';
import {type LossFn, type TrainOptions, train} from '../src/train/trainer.js';
import {printRows, type Row} from './report.js';

const backendFlag = process.argv.indexOf('--backend');
const info = await initBackend({
  backend: backendFlag > 0 ? process.argv[backendFlag + 1] : undefined,
  onWarning: (m) => process.stderr.write(`${m}\n`),
});

function mlp(sizes: number[]): tf.Sequential {
  const model = tf.sequential();
  for (const [i, units] of sizes.slice(1).entries()) {
    model.add(
      tf.layers.dense({
        units,
        ...(i === 0 ? {inputShape: [sizes[0]!]} : {}),
        activation: i < sizes.length - 2 ? 'relu' : 'linear',
        kernelInitializer: tf.initializers.glorotUniform({seed: i + 1}),
      }),
    );
  }
  return model;
}

/** Steps per second (wall clock) and CPU milliseconds per step (all threads; steadier on a busy machine). */
async function timed(run: () => Promise<unknown>): Promise<{stepsPerSecond: number; cpuMs: number}> {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  await run();
  const seconds = (performance.now() - t0) / 1000;
  const used = process.cpuUsage(cpu);
  return {stepsPerSecond: STEPS / seconds, cpuMs: (used.user + used.system) / 1000 / STEPS};
}

const STEPS = 300;
const configs = [
  {config: 'mlp 4-16-16-3, batch 16', sizes: [4, 16, 16, 3], batch: 16},
  {config: 'mlp 128-256-256-10, batch 256', sizes: [128, 256, 256, 10], batch: 256},
];
const rows: Row[] = [];
for (const {config, sizes, batch} of configs) {
  const [inputs, classes] = [sizes[0]!, sizes.at(-1)!];
  const data = Array.from({length: batch * 20}, (_, i) => ({
    x: Array.from({length: inputs}, (_, j) => Math.sin(i * 7 + j)),
    y: i % classes,
  }));
  const source = arrayBatchSource(data, {
    batchSize: batch,
    seed: 1,
    collate: (r) => ({
      inputs: tf.tensor2d(r.map((q) => q.x)),
      targets: tf.tensor1d(
        r.map((q) => q.y),
        'int32',
      ),
    }),
  });
  const model = mlp(sizes);
  const loss: LossFn = (b, ctx) => {
    const logits = model.apply(b.inputs, {training: ctx.training}) as tf.Tensor;
    return {loss: sparseCrossEntropy(logits, b.targets), metrics: {acc: accuracy(logits, b.targets)}};
  };
  // Batches are built once and cloned per step, so both sides time the step, not the collation.
  const batches: Batch[] = [];
  for (let i = 0; i < 20; i++) batches.push(await source.batch(0, i));
  const cached = {
    batchesPerEpoch: 20,
    batch: (_epoch: number, i: number): Batch => {
      const b = batches[i]!;
      return {...b, inputs: tf.clone(b.inputs as tf.Tensor), targets: tf.clone(b.targets)};
    },
  };
  const bareLoss: LossFn = (b) => sparseCrossEntropy(model.apply(b.inputs) as tf.Tensor, b.targets);
  const stepsPerSecond = async (extra: Partial<TrainOptions>) => {
    const options = {
      model: trainableFromLayersModel(model),
      data: cached,
      lr: 1e-3,
      loss: bareLoss,
      ...extra,
    };
    await train({...options, steps: 50});
    return timed(() => train({...options, steps: STEPS}));
  };
  const engineBare = await stepsPerSecond({});
  const engine = await stepsPerSecond({loss, clipNorm: 1});

  const adam = tf.train.adam(1e-3);
  const ctx = {training: true, step: 0, epoch: 0, seed: 0};
  const bare = (i: number) =>
    tf.dispose(adam.minimize(() => bareLoss(batches[i % 20]!, ctx) as tf.Scalar) ?? []);
  for (let i = 0; i < 50; i++) bare(i);
  const reference = await timed(async () => {
    for (let i = 0; i < STEPS; i++) bare(i);
  });
  rows.push({
    backend: info.name,
    config,
    tfjs_adam_steps_s: reference.stepsPerSecond,
    engine_steps_s: engineBare.stepsPerSecond,
    engine_clip_acc_steps_s: engine.stepsPerSecond,
    tfjs_adam_cpu_ms: reference.cpuMs,
    engine_cpu_ms: engineBare.cpuMs,
    engine_clip_acc_cpu_ms: engine.cpuMs,
  });
  adam.dispose();
  model.dispose();
}
printRows(rows);
