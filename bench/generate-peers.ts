// npm run bench:generate-peers [-- --rounds 2] [-- --runs 3] [-- --peers ../shared/peers]
// [-- --models dense-lm,moe-lm] [-- --batches 1,32] [-- --json]:
// greedy generation tokens/s of issue 5's two standard models (dense-lm, moe-lm) at batch 1 and 32
// against the same models decoded by bench/peers/decode_peer.py in PyTorch eager and in TensorFlow
// graph mode (tf.function per step), the issue 20 inference bullet's `generate` ratio.
// Every side decodes with a KV cache (none recomputes the context): prompt 32 bytes of Moby-Dick per
// sequence (row b reads bytes [32b, 32b + 32)), then 96 new tokens, greedy, each step's token read
// back to the host. Timed: the 95 decode steps after the first sampled token (prefill apart, in its
// own column); tokens/s = batch * 95 / median decode time over --runs generations after one
// untimed. Interleaved: each round runs kit, PyTorch, TensorFlow for one model and batch, then the
// next, so machine noise hits all alike; each in its own process, 2 intra-op threads.
// - kit-op: the kit with DSK_GRAPH_FORWARD=0, each decoding step op by op against growing caches
//   (the path before captured decoding steps, and the one MoE models take anyway).
// - kit: batch 1 is `generate`'s path (CachedDecoder.step, logits [vocab] read back, argmax in JS);
//   batch 32 is serving's (BatchDecoder: the 32 prompts prefilled together by `addAll`, one forward
//   pass, then one `step` per token for all 32, logits [32, vocab] read back). kit_prefill_alone_ms:
//   the same child also prefills the 32 prompts one by one (`add` each, the path before `addAll`)
//   before every generation, so the two prefills alternate in one process. Weights: the model bench:train builds (kit init).
//   On tfjs-node a dense model's steps run against fixed-capacity caches, each capacity's step
//   captured as one TensorFlow function (src/models/causal-lm/fixed-cache-steps.ts); the untimed
//   first generation captures them, as TensorFlow's first call traces its tf.function.
// - peers: decode_peer.py imports torch_lm.py / keras_lm.py from --peers (their models and
//   canonical initial weights) and adds the cached decode loop; its header says what each times.
// Decode speed does not depend on the weights' values, except MoE routing balance (both inits are
// random, so experts get similar loads).
import {execFileSync} from 'node:child_process';
import {loadavg} from 'node:os';
import {resolve} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {initBackend} from '../src/backend/backend.js';
import {BatchDecoder} from '../src/models/causal-lm/batch-decoder.js';
import {CachedDecoder} from '../src/models/causal-lm/cached-decoder.js';
import type {CausalLMConfig} from '../src/models/causal-lm/causal-lm.js';
import {
  buildStandardLM,
  CONFIGS,
  type ConfigName,
  checkPeers,
  flag,
  median,
  mobyDickBytes,
  roundsMedian,
  VOCAB,
} from './lm-setup.js';
import {printRows, type Row} from './report.js';

const PROMPT = 32;
const NEW = 96;
const RUNS = Number(flag('runs') ?? 3);
const ROUNDS = Number(flag('rounds') ?? 2);
const THREADS = 2;
const BATCHES = (flag('batches') ?? '1,32').split(',').map(Number);
const PEERS = resolve(flag('peers') ?? '../shared/peers');
const PYTHON = process.env.PEERS_PYTHON ?? '/tmp/peers-venv/bin/python';
const TEXT = new URL('../fixtures/text/moby-dick.txt', import.meta.url).pathname;
const PEER_SCRIPT = new URL('./peers/decode_peer.py', import.meta.url).pathname;

interface Timing {
  /** Median ms of the decode steps of one generation, and of its prefill. */
  decodeMs: number;
  /** Batch > 1: median ms of prefilling the same prompts one by one. */
  prefillAloneMs?: number;
  prefillMs: number;
}

/** Index of the largest of values[offset, offset + n), less offset (greedy decoding). */
function argmax(values: Float32Array, offset: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (values[offset + i]! > values[offset + best]!) best = i;
  return best;
}

/** One kit generation of `batch` sequences: prefill and decode ms. */
async function kitGenerate(
  model: tf.LayersModel,
  config: CausalLMConfig,
  batch: number,
  bytes: Int32Array,
): Promise<Timing> {
  const prompt = (b: number) => Array.from(bytes.subarray(PROMPT * b, PROMPT * (b + 1)));
  const t0 = performance.now();
  let step: (tokens: number[]) => tf.Tensor;
  let logits: tf.Tensor;
  let dispose: () => void;
  if (batch === 1) {
    const decoder = new CachedDecoder(model, config);
    logits = decoder.step(prompt(0));
    step = (tokens) => decoder.step(tokens);
    dispose = () => decoder.dispose();
  } else {
    const decoder = new BatchDecoder(model, config);
    const rows = decoder.addAll(Array.from({length: batch}, (_, b) => prompt(b))).map((r) => r.logits);
    logits = tf.stack(rows);
    for (const r of rows) r.dispose();
    step = (tokens) => decoder.step(tokens);
    dispose = () => decoder.dispose();
  }
  let values = (await logits.data()) as Float32Array;
  logits.dispose();
  const t1 = performance.now();
  for (let i = 1; i < NEW; i++) {
    logits = step(Array.from({length: batch}, (_, b) => argmax(values, b * VOCAB, VOCAB)));
    values = (await logits.data()) as Float32Array;
    logits.dispose();
  }
  const t2 = performance.now();
  dispose();
  return {prefillMs: t1 - t0, decodeMs: t2 - t1};
}

/** Ms to prefill `batch` prompts one by one into a BatchDecoder (`add` each), logits read back. */
async function kitPrefillAlone(
  model: tf.LayersModel,
  config: CausalLMConfig,
  batch: number,
  bytes: Int32Array,
): Promise<number> {
  const t0 = performance.now();
  const decoder = new BatchDecoder(model, config);
  const rows = Array.from(
    {length: batch},
    (_, b) => decoder.add(Array.from(bytes.subarray(PROMPT * b, PROMPT * (b + 1)))).logits,
  );
  const logits = tf.stack(rows);
  for (const r of rows) r.dispose();
  await logits.data();
  logits.dispose();
  const ms = performance.now() - t0;
  decoder.dispose();
  return ms;
}

/** A child run: median timings of the kit over RUNS generations after one untimed. */
async function kitChild(name: ConfigName, batch: number): Promise<Timing> {
  await initBackend({onWarning: (m) => process.stderr.write(`${m}\n`)});
  const {model, config} = buildStandardLM(name);
  const bytes = await mobyDickBytes();
  const runs: Timing[] = [];
  const alone: number[] = [];
  for (let r = 0; r <= RUNS; r++) {
    const a = batch > 1 ? await kitPrefillAlone(model, config, batch, bytes) : 0;
    const t = await kitGenerate(model, config, batch, bytes);
    if (r > 0) {
      runs.push(t);
      alone.push(a);
    }
  }
  model.dispose();
  return {
    decodeMs: median(runs.map((t) => t.decodeMs)),
    prefillMs: median(runs.map((t) => t.prefillMs)),
    ...(batch > 1 ? {prefillAloneMs: median(alone)} : {}),
  };
}

const threadEnv = {...process.env, TF_NUM_INTRAOP_THREADS: String(THREADS), TF_NUM_INTEROP_THREADS: '1'};

function lastLine(cmd: string, args: string[], env: NodeJS.ProcessEnv = threadEnv): string {
  const out = execFileSync(cmd, args, {encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe']});
  return out.trim().split('\n').at(-1)!;
}

const WHO = ['kit-op', 'kit', 'torch', 'tf'] as const;
type Who = (typeof WHO)[number];

function timing(who: Who, model: ConfigName, batch: number): Timing {
  if (who === 'kit' || who === 'kit-op') {
    const args = [...process.execArgv, process.argv[1]!, '--child', model, '--batch', String(batch)];
    const env = {...threadEnv, DSK_GRAPH_FORWARD: who === 'kit-op' ? '0' : '1'};
    return JSON.parse(lastLine(process.execPath, [...args, '--runs', String(RUNS)], env)) as Timing;
  }
  const row = JSON.parse(
    lastLine(PYTHON, [
      PEER_SCRIPT,
      '--peers',
      PEERS,
      '--framework',
      who,
      '--model',
      model.replace('-lm', ''),
      '--batch',
      String(batch),
      '--prompt',
      String(PROMPT),
      '--new',
      String(NEW),
      '--threads',
      String(THREADS),
      '--text',
      TEXT,
      '--runs',
      String(RUNS),
    ]),
  ) as {decode_ms_median: number; prefill_ms_median: number};
  return {decodeMs: row.decode_ms_median, prefillMs: row.prefill_ms_median};
}

const child = flag('child');
if (child) {
  process.stdout.write(`${JSON.stringify(await kitChild(child as ConfigName, Number(flag('batch'))))}\n`);
} else {
  checkPeers(PEERS, PYTHON);
  const times = new Map<string, Timing[]>();
  const loads: number[] = [];
  const models = (flag('models')?.split(',') ?? Object.keys(CONFIGS)) as ConfigName[];
  for (let r = 0; r < ROUNDS; r++) {
    for (const model of models) {
      for (const batch of BATCHES) {
        for (const who of WHO) {
          const t = timing(who, model, batch);
          const key = `${who} ${model} ${batch}`;
          times.set(key, [...(times.get(key) ?? []), t]);
          loads.push(loadavg()[0]!);
          process.stderr.write(
            `round ${r + 1} ${model} batch ${batch} ${who}: decode ${t.decodeMs.toFixed(0)} ms (${((batch * (NEW - 1) * 1000) / t.decodeMs).toFixed(1)} tokens/s), prefill ${t.prefillMs.toFixed(1)} ms${t.prefillAloneMs === undefined ? '' : ` (one by one ${t.prefillAloneMs.toFixed(1)} ms)`}, load ${loadavg()[0]!.toFixed(2)}\n`,
          );
        }
      }
    }
  }
  const rows: Row[] = models.flatMap((model) =>
    BATCHES.map((batch) => {
      const ms = (who: Who, k: keyof Timing) =>
        roundsMedian(times.get(`${who} ${model} ${batch}`)!.map((t) => t[k] ?? Number.NaN));
      const tps = (who: Who) => (batch * (NEW - 1) * 1000) / ms(who, 'decodeMs');
      const [kitOp, kit, torch, tf] = WHO.map(tps) as [number, number, number, number];
      return {
        model,
        batch,
        kit_op_tokens_s: kitOp,
        kit_tokens_s: kit,
        pytorch_eager_tokens_s: torch,
        tf_graph_tokens_s: tf,
        kit_vs_pytorch: kit / torch,
        kit_vs_tf_graph: kit / tf,
        kit_op_vs_tf_graph: kitOp / tf,
        kit_prefill_ms: ms('kit', 'prefillMs'),
        kit_prefill_alone_ms: ms('kit', 'prefillAloneMs'),
        pytorch_prefill_ms: ms('torch', 'prefillMs'),
        tf_prefill_ms: ms('tf', 'prefillMs'),
        rounds: ROUNDS,
        load_min: Math.min(...loads),
        load_max: Math.max(...loads),
      };
    }),
  );
  printRows(rows);
}
