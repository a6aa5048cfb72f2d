// npm run bench:infer-peers [-- --rounds 2] [-- --steps 10] [-- --peers ../shared/peers] [-- --json]:
// inference speed of issue 5's two standard models (dense-lm, moe-lm) against the same models in
// PyTorch eager and Keras 3 on TensorFlow (tf.function graph), the peer scripts of issue 20
// (`<peers>/torch_lm.py`, `keras_lm.py`, run with $PEERS_PYTHON, default /tmp/peers-venv/bin/python).
// Interleaved: each round runs kit, kit-graph, PyTorch, Keras for one model, then the next model,
// so machine noise hits all alike; each implementation runs in its own process, 2 intra-op threads.
// What each side times, per forward pass of one 16 x 128 batch (5 untimed warm-up passes, then
// --steps timed ones; tokens/s = 2048 / median pass):
// - kit: `model.predict(batch)` of the model bench:train builds (initial weights), the logits of all
//   128 positions ([16, 128, 256]) read back into a Float32Array (`predictOnce` in lm-setup.ts).
// - kit-graph: the same pass by GraphForward (src/train/graph-forward.ts): `apply` captured and
//   replayed as one TensorFlow function, logits read back the same way; MoE runs op by op (its
//   routing reads back), which the `kit_graph` column says.
// - PyTorch: `model(batch)` under torch.inference_mode(), logits [16, 128, 256] in CPU memory
//   (eager CPU ops are synchronous, so the values exist when the call returns).
// - Keras: the tf.function-compiled `model(batch, training=False)`, logits [16, 128, 256] copied out
//   with `.numpy()`.
// The peers run one training step first (their scripts require one; `--steps 1`), so their weights
// are one AdamW step from the canonical initial ones; forward cost does not depend on the values,
// except for MoE routing balance, which one step barely moves.
import {execFileSync} from 'node:child_process';
import {loadavg} from 'node:os';
import {join, resolve} from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import {initBackend} from '../src/backend/backend.js';
import {lmBatchSource} from '../src/models/causal-lm/lm-data.js';
import {GraphForward} from '../src/train/graph-forward.js';
import {
  BATCH,
  buildStandardLM,
  CONFIGS,
  type ConfigName,
  checkPeers,
  flag,
  mobyDickBytes,
  predictOnce,
  roundsMedian,
  timedMedianMs,
} from './lm-setup.js';
import {printRows, type Row} from './report.js';

const WARMUP = 5;
const STEPS = Number(flag('steps') ?? 10);
const ROUNDS = Number(flag('rounds') ?? 2);
const THREADS = 2;
const PEERS = resolve(flag('peers') ?? '../shared/peers');
const PYTHON = process.env.PEERS_PYTHON ?? '/tmp/peers-venv/bin/python';

/**
 * A child run: median ms of the kit's forward pass of one config, by `predict` or (`graph`) by
 * GraphForward, and how GraphForward's timed passes ran.
 */
async function kitForward(name: ConfigName, graph: boolean): Promise<{ms: number; mode: string}> {
  await initBackend({onWarning: (m) => process.stderr.write(`${m}\n`)});
  const {model, config} = buildStandardLM(name);
  const source = lmBatchSource(await mobyDickBytes(), config.contextLength, BATCH, 1, true);
  const x = (await source.batch(0, 0)).inputs as tf.Tensor;
  const forward = graph ? new GraphForward(model) : undefined;
  const pass = forward
    ? async () => {
        const logits = forward.predict(x); // [batch, length, vocab]
        await logits.data();
        logits.dispose();
      }
    : () => predictOnce(model, x);
  const ms = await timedMedianMs(pass, WARMUP, STEPS);
  const report = forward?.report();
  const mode = !forward
    ? 'predict'
    : report && report.replayed >= STEPS
      ? 'replayed'
      : `eager (${report?.reason ?? 'unavailable'})`;
  forward?.dispose();
  model.dispose();
  return {ms, mode};
}

const threadEnv = {...process.env, TF_NUM_INTRAOP_THREADS: String(THREADS), TF_NUM_INTEROP_THREADS: '1'};

function run(cmd: string, args: string[]): string {
  const out = execFileSync(cmd, args, {encoding: 'utf8', env: threadEnv, stdio: ['ignore', 'pipe', 'pipe']});
  return out.trim().split('\n').at(-1)!;
}

const WHO = ['kit', 'kit-graph', 'torch', 'keras'] as const;
type Who = (typeof WHO)[number];
/** How kit-graph's timed passes ran, per model. */
const graphModes = new Map<string, string>();

/** Median ms per forward pass of one implementation, one process. */
function forwardMs(who: Who, model: ConfigName): number {
  if (who === 'kit' || who === 'kit-graph') {
    const args = [...process.execArgv, process.argv[1]!, '--child', model, '--steps', String(STEPS)];
    if (who === 'kit-graph') args.push('--graph');
    const row = JSON.parse(run(process.execPath, args)) as {ms: number; mode: string};
    if (who === 'kit-graph') graphModes.set(model, row.mode);
    return row.ms;
  }
  const script = join(PEERS, who === 'torch' ? 'torch_lm.py' : 'keras_lm.py');
  const args = [script, '--model', model.replace('-lm', ''), '--threads', String(THREADS), '--json'];
  if (who === 'keras') args.push('--mode', 'graph');
  args.push('--steps', '1', '--warmup', String(WARMUP), '--infer-steps', String(WARMUP + STEPS));
  const row = JSON.parse(run(PYTHON, args)) as {infer: {step_ms_median: number; n: number}};
  if (row.infer.n !== STEPS)
    throw new Error(`${script}: ${row.infer.n} timed forward passes, expected ${STEPS}`);
  return row.infer.step_ms_median;
}

const child = flag('child');
if (child) {
  process.stdout.write(
    `${JSON.stringify(await kitForward(child as ConfigName, process.argv.includes('--graph')))}\n`,
  );
} else {
  checkPeers(PEERS, PYTHON);
  const ms = new Map<string, number[]>();
  const loads: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const model of Object.keys(CONFIGS) as ConfigName[]) {
      for (const who of WHO) {
        const m = forwardMs(who, model);
        process.stderr.write(`round ${r + 1} ${model} ${who}: ${m.toFixed(1)} ms per forward pass\n`);
        ms.set(`${who} ${model}`, [...(ms.get(`${who} ${model}`) ?? []), m]);
        loads.push(loadavg()[0]!);
      }
    }
  }
  const tokens = BATCH * 128; // both configs read 128-token windows, as the peers' tokens_per_step
  const rows: Row[] = (Object.keys(CONFIGS) as ConfigName[]).map((model) => {
    // Median over rounds (of two: their mean) of each implementation's per-run median.
    const tps = (who: string) => (tokens * 1000) / roundsMedian(ms.get(`${who} ${model}`)!);
    const [kit, graph, torch, keras] = WHO.map(tps) as [number, number, number, number];
    return {
      model,
      kit_tokens_s: kit,
      kit_graph_tokens_s: graph,
      pytorch_eager_tokens_s: torch,
      keras_graph_tokens_s: keras,
      kit_vs_pytorch: kit / torch,
      kit_vs_keras: kit / keras,
      graph_vs_pytorch: graph / torch,
      graph_vs_keras: graph / keras,
      kit_ms: roundsMedian(ms.get(`kit ${model}`)!),
      kit_graph_ms: roundsMedian(ms.get(`kit-graph ${model}`)!),
      kit_graph: graphModes.get(model) ?? '',
      rounds: ROUNDS,
      load_min: Math.min(...loads),
      load_max: Math.max(...loads),
    };
  });
  printRows(rows);
}
