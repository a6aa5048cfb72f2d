// npm run bench:backend [-- --json]: matmul GFLOPS at 256 and 1024 and one small MLP training
// step, for each backend that loads. Bar (issue 2): native >= 5x wasm at 1024.
import * as tf from '@tensorflow/tfjs';
import {initBackend, probeMatmul} from '../src/index.js';
import {printBar, printRows, type Row} from './report.js';

// 3-layer MLP on a 4096x128 batch set: the shape the backend comparison in the design was made with.
async function mlpStepMs(): Promise<number> {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({
        inputShape: [128],
        units: 256,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({seed: 1}),
      }),
      tf.layers.dense({
        units: 256,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({seed: 2}),
      }),
      tf.layers.dense({units: 10, kernelInitializer: tf.initializers.glorotUniform({seed: 3})}),
    ],
  });
  model.compile({optimizer: tf.train.adam(1e-3), loss: tf.losses.softmaxCrossEntropy});
  const x = tf.randomNormal([256, 128], 0, 1, 'float32', 4);
  const y = tf.oneHot(tf.randomUniform([256], 0, 10, 'int32', 5), 10);
  await model.trainOnBatch(x, y); // warm-up: kernel selection, wasm compilation
  const steps = 16;
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await model.trainOnBatch(x, y);
  const ms = (performance.now() - t0) / steps;
  tf.dispose([x, y]);
  model.dispose();
  return ms;
}

const rows: Row[] = [];
for (const choice of ['tensorflow', 'wasm', 'cpu'] as const) {
  try {
    await initBackend({backend: choice});
  } catch (err) {
    rows.push({backend: choice, loaded: false, note: (err as Error).message.split(' — ')[0]!});
    continue;
  }
  const g256 = await probeMatmul(256, 0.5);
  const g1024 = await probeMatmul(1024, choice === 'cpu' ? 0 : 1);
  rows.push({
    backend: choice,
    loaded: true,
    gflops_256: Number(g256.gflops.toFixed(1)),
    gflops_1024: Number(g1024.gflops.toFixed(1)),
    mlp_step_ms: Number((await mlpStepMs()).toFixed(2)),
  });
}
printRows(rows);
const native = rows.find((r) => r.backend === 'tensorflow' && r.loaded);
const wasm = rows.find((r) => r.backend === 'wasm' && r.loaded);
if (native && wasm) {
  const ratio = (native.gflops_1024 as number) / (wasm.gflops_1024 as number);
  printBar('native >= 5x wasm at 1024', ratio >= 5, `${ratio.toFixed(1)}x`);
} else {
  printBar('native >= 5x wasm at 1024', false, 'native or wasm backend did not load');
}
