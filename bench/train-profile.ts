// npx tsx bench/train-profile.ts [--config dense-lm|moe-lm] [--backend wasm] [--repeats 5]: where a
// training step of bench:train's models spends its time. Stages (forward; forward + backward;
// clipping; AdamW) are timed on their own with the result read back, as medians over repeats; then
// `repeats` whole steps run under tf.profile, and their kernels are totalled by name (with --shapes:
// by name and input shapes): count per step and median ms. MoE configs end with each layer's routing
// of the last step (tokens per expert, max/mean load, expert rows with padding).
import {readFile} from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import {initBackend} from '../src/backend/backend.js';
import {moeLayers} from '../src/layers/moe/moe-layers.js';
import {
  buildCausalLM,
  CAUSAL_LM_PRESETS,
  DEFAULT_CAUSAL_LM_CONFIG,
} from '../src/models/causal-lm/causal-lm.js';
import {lmBatchSource} from '../src/models/causal-lm/lm-data.js';
import {AdamW} from '../src/train/adamw.js';
import {clipFactor, globalNorm} from '../src/train/clip.js';
import {modelLosses, sparseCrossEntropy} from '../src/train/losses.js';
import {trainableFromLayersModel} from '../src/train/trainable.js';
import {printRows, type Row} from './report.js';

const flag = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const name = flag('config', 'dense-lm');
const repeats = Number(flag('repeats', '5'));
await initBackend({backend: process.argv.includes('--backend') ? flag('backend', '') : undefined});

const config = {...DEFAULT_CAUSAL_LM_CONFIG, ...CAUSAL_LM_PRESETS[name]};
const model = buildCausalLM(config, 256);
const params = trainableFromLayersModel(model).trainable;
const variables = params.map((p) => p.variable);
const text = await readFile(new URL('../fixtures/text/moby-dick.txt', import.meta.url));
const batch = await lmBatchSource(Int32Array.from(text), config.contextLength, 16, 1, true).batch(0, 0);
const ids = batch.inputs as tf.Tensor;
const optimizer = new AdamW(params);

const loss = () => {
  const logits = model.apply(ids, {training: true}) as tf.Tensor;
  return tf.add(sparseCrossEntropy(logits, batch.targets), modelLosses(model)) as tf.Scalar;
};
const grads = () => {
  const {value, grads} = tf.variableGrads(loss, variables);
  return {value, list: variables.map((v) => grads[v.name]!)};
};
const step = () =>
  tf.tidy(() => {
    const g = grads();
    optimizer.apply(g.list, 3e-4, clipFactor(globalNorm(g.list), 1));
    return g.value;
  });

/** Median ms of `run` (its result read back, then disposed), interleaving nothing else. */
async function median(run: () => tf.Tensor | tf.Tensor[]): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    const out = run();
    const list = Array.isArray(out) ? out : [out];
    await Promise.all(list.map((t) => t.data()));
    times.push(performance.now() - t0);
    tf.dispose(list);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

for (let i = 0; i < 3; i++) tf.dispose(step());
const fixedGrads = tf.tidy(() => grads().list.map((g) => tf.keep(g)));
const stages: Row[] = [
  {stage: 'forward (logits + loss)', ms: await median(() => tf.tidy(loss))},
  {stage: 'forward + backward', ms: await median(() => tf.tidy(() => grads().list))},
  {
    stage: 'global norm + clip factor',
    ms: await median(() => tf.tidy(() => clipFactor(globalNorm(fixedGrads), 1))),
  },
  {
    stage: 'AdamW update',
    ms: await median(() => {
      optimizer.apply(fixedGrads, 3e-4);
      return tf.clone(variables.at(-1)!); // read back: the update has run
    }),
  },
  {stage: 'whole step', ms: await median(step)},
];
printRows(stages.map((r) => ({config: name, ...r})));

const byShape = process.argv.includes('--shapes');
const nested = (kernel: string) =>
  kernel.endsWith('__op') ||
  kernel === 'unnamed scope' || // a tf.customGrad function: its kernels are recorded as well
  (kernel === '_FusedMatMul' && tf.getBackend() === 'tensorflow');
// Each profiled step's kernels totalled by key; per key the median over `repeats` steps, so one
// step disturbed by another process does not decide the table.
const perStep: Map<string, {count: number; ms: number}>[] = [];
let kernelCount = 0;
for (let r = 0; r < repeats; r++) {
  const profile = await tf.profile(() => step());
  tf.dispose(profile.result as tf.Tensor);
  const byKernel = new Map<string, {count: number; ms: number}>();
  // Op-level wrappers (`fusedMatMul__op`) time the kernels they run, and tfjs-node's _FusedMatMul is
  // a BatchMatMul (+ bias, activation) recorded on its own: each counts once, as the inner kernels.
  const own = profile.kernels.filter((k) => !nested(k.name));
  kernelCount = own.length;
  for (const k of own) {
    const key = byShape ? `${k.name} ${k.inputShapes.map((s) => `[${s}]`).join('')}` : k.name;
    const entry = byKernel.get(key) ?? {count: 0, ms: 0};
    entry.count += 1;
    entry.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    byKernel.set(key, entry);
  }
  perStep.push(byKernel);
}
const medianOf = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const kernels = [...perStep[0]!.entries()]
  .map(([key, e]) => [key, {count: e.count, ms: medianOf(perStep.map((m) => m.get(key)?.ms ?? 0))}] as const)
  .sort((a, b) => b[1].ms - a[1].ms);
const total = kernels.reduce((s, [, e]) => s + e.ms, 0);
process.stdout.write(
  `\n${kernelCount} kernels per step, ${total.toFixed(1)} ms inside them (medians of ${repeats} profiled steps)\n`,
);
printRows(
  kernels
    .slice(0, byShape ? 40 : 25)
    .map(([kernel, e]) => ({kernel, count: e.count, ms: e.ms, share: e.ms / total})),
);

// How the MoE layers routed the last step: skewed routing runs busy experts as several chunks.
const routed = moeLayers(model).filter((layer) => layer.lastRoutingStats);
if (routed.length > 0) {
  process.stdout.write('\nMoE routing of the last step\n');
  printRows(
    routed.map((layer, i) => {
      const s = layer.lastRoutingStats!;
      return {
        moe_layer: i,
        tokens_per_expert: s.tokensPerExpert.join(','),
        max_over_mean: s.maxOverMean,
        expert_rows: s.expertRows,
      };
    }),
  );
}
