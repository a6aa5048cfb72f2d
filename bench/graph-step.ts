// npx tsx bench/graph-step.ts [--config dense-lm] [--rounds 4] [--steps 5]: one training step of
// bench:train's model (forward, backward, clip 1.0, AdamW) run eagerly op by op, and the same step
// captured once and replayed as one TensorFlow function (src/backend/step-record.ts, step-function.ts), alternated in
// rounds in one process; medians of wall and CPU ms per step, loss read back after every step.
import {loadavg} from 'node:os';
import * as tf from '@tensorflow/tfjs';
import {initBackend} from '../src/backend/backend.js';
import {StepFunction} from '../src/backend/step-function.js';
import {recordStep} from '../src/backend/step-record.js';
import {lmBatchSource} from '../src/models/causal-lm/lm-data.js';
import {AdamW} from '../src/train/adamw.js';
import type {NativeAdamW} from '../src/train/adamw-native.js';
import {clipFactor, globalNorm} from '../src/train/clip.js';
import {modelLosses, sparseCrossEntropy} from '../src/train/losses.js';
import {trainableFromLayersModel} from '../src/train/trainable.js';
import {BATCH, buildStandardLM, type ConfigName, flag, mobyDickBytes} from './lm-setup.js';
import {printRows} from './report.js';

const name = (flag('config') ?? 'dense-lm') as ConfigName;
const rounds = Number(flag('rounds') ?? 4);
const steps = Number(flag('steps') ?? 5);
await initBackend({});
const {model, config} = buildStandardLM(name);
const params = trainableFromLayersModel(model).trainable;
const variables = params.map((p) => p.variable);
const batch = await lmBatchSource(await mobyDickBytes(), config.contextLength, BATCH, 1, true).batch(0, 0);
const ids = batch.inputs as tf.Tensor;
const optimizer = new AdamW(params);
const native = (optimizer as unknown as {update: NativeAdamW}).update;

const body = (scalars: tf.Scalar[]) => () =>
  tf.tidy(() => {
    const {value, grads} = tf.variableGrads(() => {
      const logits = model.apply(ids, {training: true}) as tf.Tensor;
      return tf.add(sparseCrossEntropy(logits, batch.targets), modelLosses(model)) as tf.Scalar;
    }, variables);
    const list = variables.map((v) => grads[v.name]!);
    native.applyScalars(list, scalars, clipFactor(globalNorm(list), 1));
    return [value, ...variables.map((v) => tf.clone(v))];
  });

const eager = () => {
  optimizer.step += 1;
  const scalars = native.stepScalars(3e-4, optimizer.step);
  const out = body(scalars)();
  tf.dispose([...scalars, ...out.slice(1)]);
  return out[0]!;
};

for (let i = 0; i < 2; i++) {
  const loss = eager();
  loss.dataSync();
  loss.dispose();
}
optimizer.step += 1;
const scalars0 = native.stepScalars(3e-4, optimizer.step);
const t0 = performance.now();
const {record, outputs} = recordStep([ids, batch.targets, ...variables, ...scalars0], body(scalars0));
tf.dispose([...scalars0, ...outputs]);
const t1 = performance.now();
const graph = StepFunction.fromRecord(record);
const t2 = performance.now();
process.stderr.write(
  `recorded ${record.ops.length} ops in ${(t1 - t0).toFixed(0)} ms, registered in ${(t2 - t1).toFixed(0)} ms\n`,
);

const replay = () => {
  native.sync();
  optimizer.step += 1;
  const scalars = native.stepScalars(3e-4, optimizer.step);
  const out = graph.call([ids, batch.targets, ...variables, ...scalars]);
  for (const [i, v] of variables.entries()) v.assign(out[i + 1]!);
  native.markWritten();
  tf.dispose([...scalars, ...out.slice(1)]);
  return out[0]!;
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const times: Record<string, {wall: number[]; cpu: number[]; loss: number}> = {
  eager: {wall: [], cpu: [], loss: 0},
  replay: {wall: [], cpu: [], loss: 0},
};
const first = replay();
process.stderr.write(`first replay loss ${first.dataSync()[0]}\n`);
first.dispose();
for (let r = 0; r < rounds; r++) {
  for (const [mode, fn] of [
    ['eager', eager],
    ['replay', replay],
  ] as const) {
    for (let s = 0; s < steps; s++) {
      const w0 = performance.now();
      const c0 = process.cpuUsage();
      const loss = fn();
      times[mode]!.loss = loss.dataSync()[0]!;
      loss.dispose();
      const c = process.cpuUsage(c0);
      times[mode]!.wall.push(performance.now() - w0);
      times[mode]!.cpu.push((c.user + c.system) / 1000);
    }
  }
  process.stderr.write(`round ${r + 1}: tensors ${tf.memory().numTensors}\n`);
}
printRows(
  Object.entries(times).map(([mode, t]) => ({
    config: name,
    mode,
    ms_per_step: median(t.wall),
    cpu_ms_per_step: median(t.cpu),
    tokens_per_s: (BATCH * config.contextLength * 1000) / median(t.wall),
    last_loss: t.loss,
    load_avg: loadavg()[0]!,
  })),
);
