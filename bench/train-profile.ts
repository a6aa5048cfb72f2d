// npx tsx bench/train-profile.ts [--config dense-lm|moe-lm] [--backend wasm] [--repeats 5] [--composed]:
// where a training step of bench:train's models spends its time. Stages (forward; forward + backward;
// clipping; AdamW) are timed on their own with the result read back, as medians over repeats, with
// the TensorFlow ops each runs on tfjs-node; then `repeats` whole steps run with their ops totalled
// by name: count per step and median ms. On tfjs-node every op TensorFlow executes is counted (tfjs
// kernels and the kit's native ops: bench/native-op-log.ts); elsewhere, and with --shapes (by name
// and input shapes), tfjs's kernels under tf.profile, which does not see native ops. --composed runs
// everything on tfjs's composed ops (no native op), for A/B. MoE configs end with each layer's
// routing of the last step (tokens per expert, max/mean load, expert rows with padding).
import {readFile} from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import {initBackend} from '../src/backend/backend.js';
import {withComposedOps} from '../src/backend/native-ops.js';
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
import {flag} from './lm-setup.js';
import {NativeOpLog, type OpTotals, opCount} from './native-op-log.js';
import {printRows, type Row} from './report.js';

const name = flag('config') ?? 'dense-lm';
const repeats = Number(flag('repeats') ?? 5);
const composed = process.argv.includes('--composed');
const byShape = process.argv.includes('--shapes');
await initBackend({backend: flag('backend')});
const opLog = byShape ? undefined : NativeOpLog.attach();
/** Runs `fn` as configured: on the composed ops with --composed. */
const run = <T>(fn: () => T): T => (composed ? withComposedOps(fn) : fn());

const config = {...DEFAULT_CAUSAL_LM_CONFIG, ...CAUSAL_LM_PRESETS[name]};
const model = buildCausalLM(config, 256);
const params = trainableFromLayersModel(model).trainable;
const variables = params.map((p) => p.variable);
const text = await readFile(new URL('../fixtures/text/moby-dick.txt', import.meta.url));
const batch = await lmBatchSource(Int32Array.from(text), config.contextLength, 16, 1, true).batch(0, 0);
const ids = batch.inputs as tf.Tensor;
const optimizer = run(() => new AdamW(params));

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

/**
 * Median ms of `stage` (its result read back, then disposed), interleaving nothing else, and on
 * tfjs-node the TensorFlow ops one run of it executes.
 */
async function measure(label: string, stage: () => tf.Tensor | tf.Tensor[]): Promise<Row> {
  const once = () => {
    const out = run(stage);
    const list = Array.isArray(out) ? out : [out];
    for (const t of list) t.dataSync();
    tf.dispose(list);
  };
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    once();
    times.push(performance.now() - t0);
  }
  const ms = times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
  return {stage: label, ms, ...(opLog ? {tf_ops: opCount(opLog.record(once))} : {})};
}

for (let i = 0; i < 3; i++) tf.dispose(run(step));
const fixedGrads = run(() => tf.tidy(() => grads().list.map((g) => tf.keep(g))));
const stages: Row[] = [
  await measure('forward (logits + loss)', () => tf.tidy(loss)),
  await measure('forward + backward', () => tf.tidy(() => grads().list)),
  await measure('global norm + clip factor', () => tf.tidy(() => clipFactor(globalNorm(fixedGrads), 1))),
  await measure('AdamW update', () => {
    optimizer.apply(fixedGrads, 3e-4);
    return tf.clone(variables.at(-1)!); // read back: the update has run
  }),
  await measure('whole step', step),
];
printRows(stages.map((r) => ({config: name, ops: composed ? 'composed' : 'native', ...r})));

const nested = (kernel: string) =>
  kernel.endsWith('__op') ||
  kernel === 'unnamed scope' || // a tf.customGrad function: its kernels are recorded as well
  (kernel === '_FusedMatMul' && tf.getBackend() === 'tensorflow');
/** One whole step's kernels (tfjs-node: TensorFlow ops) totalled by name, or name and shapes. */
async function profileStep(): Promise<Map<string, OpTotals>> {
  if (opLog) return opLog.record(() => tf.dispose(run(step)));
  const profile = await tf.profile(() => run(step));
  tf.dispose(profile.result as tf.Tensor);
  const byKernel = new Map<string, OpTotals>();
  // Op-level wrappers (`fusedMatMul__op`) time the kernels they run, and tfjs-node's _FusedMatMul is
  // a BatchMatMul (+ bias, activation) recorded on its own: each counts once, as the inner kernels.
  for (const k of profile.kernels.filter((k) => !nested(k.name))) {
    const key = byShape ? `${k.name} ${k.inputShapes.map((s) => `[${s}]`).join('')}` : k.name;
    const entry = byKernel.get(key) ?? {count: 0, ms: 0};
    entry.count += 1;
    entry.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    byKernel.set(key, entry);
  }
  return byKernel;
}

// Per key the median over `repeats` steps, so one step disturbed by another process does not
// decide the table.
const perStep: Map<string, OpTotals>[] = [];
for (let r = 0; r < repeats; r++) perStep.push(await profileStep());
const kernelCount = opCount(perStep.at(-1)!);
const medianOf = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const kernels = [...perStep[0]!.entries()]
  .map(([key, e]) => [key, {count: e.count, ms: medianOf(perStep.map((m) => m.get(key)?.ms ?? 0))}] as const)
  .sort((a, b) => b[1].ms - a[1].ms);
const total = kernels.reduce((s, [, e]) => s + e.ms, 0);
const what = opLog ? 'TensorFlow ops' : 'kernels';
process.stdout.write(
  `\n${kernelCount} ${what} per step, ${total.toFixed(1)} ms inside them (medians of ${repeats} profiled steps)\n`,
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
