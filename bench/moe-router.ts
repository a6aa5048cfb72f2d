// npx tsx bench/moe-router.ts [--rounds 6] [--steps 4]: bench:train's moe-lm run op by op with each
// of the MoE layer's two sparse routers on tfjs-node — 'js' (router-op.ts: the logits read back,
// top-k, plan and gradients in JS) and 'graph' (graph-router.ts, graph-dispatch.ts: TensorFlow ops,
// what a captured step runs) — alternated in rounds in one process: medians of wall and CPU ms of a
// forward pass (training off) and of a forward and backward pass (training on, aux loss included).
// The MoE layer's 'auto' router takes 'js' op by op and 'graph' only while a step is recorded.
import {loadavg} from 'node:os';
import * as tf from '@tensorflow/tfjs';
import {initBackend} from '../src/backend/backend.js';
import {lmBatchSource} from '../src/models/causal-lm/lm-data.js';
import {modelLosses, sparseCrossEntropy} from '../src/train/losses.js';
import {trainableFromLayersModel} from '../src/train/trainable.js';
import {BATCH, buildStandardLM, flag, median, mobyDickBytes} from './lm-setup.js';
import {printRows} from './report.js';

const rounds = Number(flag('rounds') ?? 6);
const steps = Number(flag('steps') ?? 4);
await initBackend({});
const {model, config} = buildStandardLM('moe-lm');
const variables = trainableFromLayersModel(model).trainable.map((p) => p.variable);
const batch = await lmBatchSource(await mobyDickBytes(), config.contextLength, BATCH, 1, true).batch(0, 0);
const ids = batch.inputs as tf.Tensor;

type Router = 'js' | 'graph';
const pass = (router: Router, training: boolean): tf.Scalar =>
  tf.tidy(() => {
    // apply's kwargs reach every layer: the MoE layers read `router`.
    const logits = (router: Router, train: boolean) =>
      model.apply(ids, {training: train, router} as tf.serialization.ConfigDict) as tf.Tensor;
    if (!training) return tf.sum(logits(router, false));
    const {value, grads} = tf.variableGrads(
      () => tf.add(sparseCrossEntropy(logits(router, true), batch.targets), modelLosses(model)) as tf.Scalar,
      variables,
    );
    tf.dispose(grads);
    return value;
  });

const rows = [];
for (const training of [false, true]) {
  const times = {
    js: {wall: [] as number[], cpu: [] as number[]},
    graph: {wall: [] as number[], cpu: [] as number[]},
  };
  for (let r = 0; r <= rounds; r++) {
    for (const router of ['js', 'graph'] as const) {
      for (let s = 0; s < steps; s++) {
        const c0 = process.cpuUsage();
        const w0 = performance.now();
        const value = pass(router, training);
        value.dataSync();
        value.dispose();
        const c = process.cpuUsage(c0);
        // Round 0 warms both up.
        if (r === 0) continue;
        times[router].wall.push(performance.now() - w0);
        times[router].cpu.push((c.user + c.system) / 1000);
      }
    }
  }
  for (const router of ['js', 'graph'] as const) {
    rows.push({
      pass: training ? 'forward+backward' : 'forward',
      router,
      ms: median(times[router].wall),
      cpu_ms: median(times[router].cpu),
      load_avg: loadavg()[0]!,
    });
  }
}
printRows(rows);
