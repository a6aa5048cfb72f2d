// Shared setup of the benchmarks that time issue 5's two standard language models (bench/train.ts,
// bench/infer-peers.ts): the configs with the parameter counts issue 5 states, the model as
// buildCausalLM makes it (checked against those counts), and the Moby-Dick byte stream they read.
import {existsSync} from 'node:fs';
import {readFile} from 'node:fs/promises';
import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  activeParameters,
  buildCausalLM,
  CAUSAL_LM_PRESETS,
  type CausalLMConfig,
  DEFAULT_CAUSAL_LM_CONFIG,
} from '../src/models/causal-lm/causal-lm.js';

/** Issue 5's configs, with the parameter counts it states and its reference speeds (tokens/s). */
export const CONFIGS = {
  'dense-lm': {params: 4_360_448, active: 4_360_448, pytorchEager: 5200, kerasGraph: 8900},
  'moe-lm': {params: 9_087_232, active: 4_368_640, pytorchEager: 4700, kerasGraph: 7000},
} as const;
export type ConfigName = keyof typeof CONFIGS;

export const VOCAB = 256; // bytes
export const BATCH = 16;

export interface StandardLM {
  model: tf.LayersModel;
  config: CausalLMConfig;
  /** Trainable parameters (the MoE router's load-balancing bias is not trainable). */
  params: number;
  active: number;
}

/** Builds one of issue 5's models, initial weights; throws when its size is not the one issue 5 states. */
export function buildStandardLM(name: ConfigName): StandardLM {
  const config: CausalLMConfig = {...DEFAULT_CAUSAL_LM_CONFIG, ...CAUSAL_LM_PRESETS[name]};
  const expected = CONFIGS[name];
  const model = buildCausalLM(config, VOCAB);
  const params = model.trainableWeights.reduce((n, w) => n + tf.util.sizeFromShape(w.shape as number[]), 0);
  const active = activeParameters(config, params);
  if (params !== expected.params || active !== expected.active) {
    throw new Error(
      `${name}: ${params} parameters (${active} active), issue 5 says ${expected.params} (${expected.active})`,
    );
  }
  return {model, config, params, active};
}

/** fixtures/text/moby-dick.txt as bytes, the models' training text. */
export async function mobyDickBytes(): Promise<Int32Array> {
  return Int32Array.from(await readFile(new URL('../fixtures/text/moby-dick.txt', import.meta.url)));
}

/** One forward pass as a user makes it: `predict` of the batch, all positions' logits read back. */
export async function predictOnce(model: tf.LayersModel, inputs: tf.Tensor): Promise<void> {
  const logits = model.predict(inputs) as tf.Tensor; // [batch, length, vocab]
  await logits.data();
  logits.dispose();
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Median ms of `fn` over `steps` calls after `warmup` untimed ones. */
export async function timedMedianMs(fn: () => Promise<void>, warmup: number, steps: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < warmup + steps; i++) {
    const t0 = performance.now();
    await fn();
    if (i >= warmup) times.push(performance.now() - t0);
  }
  return median(times);
}

/** The value of `--name` on the command line, if given. */
export const flag = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};

/** The median over rounds, the mean of the middle two for an even count (as interleaved.sh's statistics.median). */
export function roundsMedian(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = Math.floor(s.length / 2);
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

/** Throws, saying what to do, unless `peers` holds the peer scripts and `python` exists. */
export function checkPeers(peers: string, python: string): void {
  for (const f of ['torch_lm.py', 'keras_lm.py']) {
    if (!existsSync(join(peers, f)))
      throw new Error(`${join(peers, f)} not found: pass --peers DIR (the peer scripts)`);
  }
  if (!existsSync(python)) {
    throw new Error(
      `${python} not found: run bash <peers>/interleaved.sh once (it makes the venv) or set PEERS_PYTHON`,
    );
  }
}
