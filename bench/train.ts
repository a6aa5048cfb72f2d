// npm run bench:train [-- --json] [-- --backend wasm] [-- --config dense-lm] [-- --steps 20]:
// training tokens/s and peak RSS of issue 5's two standard language models (dense-lm, moe-lm) built
// by buildCausalLM, trained by the kit's engine (AdamW 3e-4, clip 1.0, float32) on 129-byte windows
// of Moby-Dick, batch 16: 5 warm-up steps, then `--steps` timed ones; tokens/s from the median step.
// Each config runs in its own child process, so each peak RSS is that config's alone. Rows carry CPU
// ms per step and the load average too: on a shared machine the wall clock says as much about the
// neighbours as about us. With --infer-steps N (N timed after 5 warm-up), the trained model's
// inference too: `predict` of one batch (16 x 128 logits, read back; the peers' `infer` figure) in
// rows/s and tokens/s, and greedy `generate` with the KV cache (BatchDecoder) at batch 1 and 32
// (32-byte prompts, then one token per sequence and step read back as a sampler does) in tokens/s.
import {execFileSync} from 'node:child_process';
import {loadavg} from 'node:os';
import * as tf from '@tensorflow/tfjs';
import {initBackend} from '../src/backend/backend.js';
import {BatchDecoder} from '../src/models/causal-lm/batch-decoder.js';
import type {CausalLMConfig} from '../src/models/causal-lm/causal-lm.js';
import {lmBatchSource} from '../src/models/causal-lm/lm-data.js';
import type {GraphStepReport} from '../src/train/graph-step.js';
import {modelLosses, sparseCrossEntropy} from '../src/train/losses.js';
import {trainableFromLayersModel} from '../src/train/trainable.js';
import {train} from '../src/train/trainer.js';
import {
  BATCH,
  buildStandardLM,
  CONFIGS,
  type ConfigName,
  flag,
  median,
  mobyDickBytes,
  predictOnce,
  timedMedianMs,
  VOCAB,
} from './lm-setup.js';
import {peakRssMb, printBar, printRows, type Row} from './report.js';

const WARMUP = 5;
const STEPS = Number(flag('steps') ?? 20);
const INFER_STEPS = Number(flag('infer-steps') ?? 0);

/** Trains one config in this process and returns its row. */
async function measure(name: ConfigName): Promise<Row> {
  const info = await initBackend({
    backend: flag('backend'),
    onWarning: (m) => process.stderr.write(`${m}\n`),
  });
  const expected = CONFIGS[name];
  const {model, config, params, active} = buildStandardLM(name);
  const stream = await mobyDickBytes();
  const length = config.contextLength;
  const marks: {wall: number; cpu: number}[] = [];
  const result = await train({
    model: trainableFromLayersModel(model),
    data: lmBatchSource(stream, length, BATCH, 1, true),
    loss: (batch, ctx) => {
      const logits = model.apply(batch.inputs, {training: ctx.training}) as tf.Tensor;
      return tf.add(sparseCrossEntropy(logits, batch.targets), modelLosses(model)) as tf.Scalar;
    },
    steps: WARMUP + STEPS,
    lr: 3e-4,
    schedule: {decay: 'constant'},
    clipNorm: 1,
    // The loss is read back after every step, so each onStep marks the end of finished work (on
    // tfjs-node kernels run synchronously: the read-back stalls nothing).
    logEvery: 1,
    onStep: (e) => {
      const {user, system} = process.cpuUsage();
      if (e.step >= WARMUP) marks.push({wall: performance.now(), cpu: (user + system) / 1000});
    },
  });
  const inference = INFER_STEPS > 0 ? await measureInference(model, config, stream) : {};
  model.dispose();
  // Per-step medians: a burst from a neighbour process moves a mean over 20 steps, not a median.
  const per = (key: 'wall' | 'cpu') => median(marks.slice(1).map((m, i) => m[key] - marks[i]![key]));
  const msPerStep = per('wall');
  const tokensPerS = (BATCH * length * 1000) / msPerStep;
  return {
    backend: info.name,
    config: name,
    params,
    active_params: active,
    ms_per_step: msPerStep,
    mean_ms_per_step: (marks.at(-1)!.wall - marks[0]!.wall) / STEPS,
    // CPU time of all threads: steadier than the wall clock when other processes share the cores.
    cpu_ms_per_step: per('cpu'),
    tokens_per_s: tokensPerS,
    pytorch_eager_tokens_s: expected.pytorchEager,
    keras_graph_tokens_s: expected.kerasGraph,
    vs_pytorch: tokensPerS / expected.pytorchEager,
    ...inference,
    final_loss: result.finalLoss,
    // Whether the steps ran as one captured TensorFlow function each (DSK_GRAPH_STEP=0: op by op).
    graph_step: graphStepCell(result.graphSteps),
    peak_rss_mb: peakRssMb(),
    // 1-minute load average at the end: above the core count, the wall-clock figures are inflated.
    load_avg: loadavg()[0]!,
  };
}

/** `replayed` when the timed steps were captured TensorFlow functions, else `eager` and why. */
function graphStepCell(report: GraphStepReport | undefined): string {
  if (!report) return process.env.DSK_GRAPH_STEP === '0' ? 'eager (DSK_GRAPH_STEP=0)' : 'eager (unavailable)';
  if (report.replayed >= STEPS) return 'replayed';
  return `eager (${report.reason ?? `${report.replayed} of ${WARMUP + STEPS} replayed`})`;
}

const medianMs = (fn: () => Promise<void>) => timedMedianMs(fn, WARMUP, INFER_STEPS);

/** predict rows/s and tokens/s on one training batch; generate tokens/s at batch 1 and 32. */
async function measureInference(
  model: tf.LayersModel,
  config: CausalLMConfig,
  stream: Int32Array,
): Promise<Row> {
  const {inputs} = await lmBatchSource(stream, config.contextLength, BATCH, 1, true).batch(0, 0);
  const predictMs = await medianMs(() => predictOnce(model, inputs as tf.Tensor));
  tf.dispose(inputs as tf.Tensor);
  const generate = async (batch: number) => {
    const decoder = new BatchDecoder(model, config);
    // Each sequence's prompt is its own 32 bytes of the text; the steps must fit the context after it.
    if (32 + WARMUP + INFER_STEPS > config.contextLength)
      throw new Error('--infer-steps: too many for the context');
    const prompts = Array.from({length: batch}, (_, i) =>
      decoder.add(Array.from(stream.subarray(32 * i, 32 * (i + 1)))),
    );
    let logits: tf.Tensor = tf.stack(prompts.map((p) => p.logits));
    tf.dispose(prompts.map((p) => p.logits));
    const ms = await medianMs(async () => {
      const values = (await logits.data()) as Float32Array;
      logits.dispose();
      logits = decoder.step(Array.from({length: batch}, (_, b) => argmax(values, b * VOCAB, VOCAB)));
    });
    logits.dispose();
    decoder.dispose();
    return (batch * 1000) / ms;
  };
  return {
    predict_rows_s: (BATCH * 1000) / predictMs,
    predict_tokens_s: (BATCH * config.contextLength * 1000) / predictMs,
    generate_b1_tokens_s: await generate(1),
    generate_b32_tokens_s: await generate(32),
  };
}

/** Index of the largest of values[offset, offset + n), less offset (greedy decoding). */
function argmax(values: Float32Array, offset: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (values[offset + i]! > values[offset + best]!) best = i;
  return best;
}

const only = flag('config');
if (only) {
  if (!(only in CONFIGS)) throw new Error(`--config must be one of ${Object.keys(CONFIGS).join(', ')}`);
  // A child run: one JSON row on stdout.
  process.stdout.write(`${JSON.stringify(await measure(only as ConfigName))}\n`);
} else {
  const rows: Row[] = [];
  for (const name of Object.keys(CONFIGS)) {
    const args = [...process.execArgv, process.argv[1]!, '--config', name, '--steps', String(STEPS)];
    args.push('--infer-steps', String(INFER_STEPS));
    const backend = flag('backend');
    if (backend) args.push('--backend', backend);
    const out = execFileSync(process.execPath, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    rows.push(JSON.parse(out.trim().split('\n').at(-1)!) as Row);
  }
  printRows(rows);
  for (const row of rows) {
    const ratio = row.vs_pytorch as number;
    printBar(
      `${row.config} at least PyTorch eager speed`,
      ratio >= 1,
      `${ratio.toFixed(2)} of it (${Math.round(row.tokens_per_s as number)} vs ${row.pytorch_eager_tokens_s} tokens/s)`,
    );
  }
}
