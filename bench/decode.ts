// npm run bench:decode [-- --json]: greedy generation with a causal LM (4 blocks of d_model 256,
// 8 query heads on 2 KV heads, RoPE, SwiGLU, byte vocabulary), prompt 64 + 256 new tokens, reading
// each token back to the host as a sampler does. Per-token time with the KV cache (CachedDecoder:
// each step runs only the new token) against recomputing the whole prefix (model.predict on every
// step); the two run step by step in turn, so machine load hits both alike. Bar (issue 5): cache
// >= 5x faster per token. Also the parameter share LoRA on attn.(q|v) trains in that model.
import * as tf from '@tensorflow/tfjs';
import {Rng} from '../src/data/rng.js';
import {
  applyLoRA,
  buildCausalLM,
  CachedDecoder,
  type CausalLMConfig,
  DEFAULT_CAUSAL_LM_CONFIG,
  initBackend,
} from '../src/index.js';
import {printBar, printRows, type Row} from './report.js';

const PROMPT = 64;
const NEW_TOKENS = 256;
const VOCAB = 260; // 256 bytes + specials
const CONFIG: CausalLMConfig = {
  ...DEFAULT_CAUSAL_LM_CONFIG,
  contextLength: PROMPT + NEW_TOKENS,
  dModel: 256,
  numLayers: 4,
  numHeads: 8,
  numKvHeads: 2,
  positions: 'rope',
  ffn: 'dense',
  ffnHidden: 688,
  tiedHead: false,
  tokenizerKind: 'byte',
};

/** Index of the largest logit (greedy decoding), read back on the host. */
async function argmax(logits: tf.Tensor): Promise<number> {
  const values = (await logits.data()) as Float32Array;
  logits.dispose();
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** Logits after the last id from a full forward pass over all ids (no cache). */
function recomputeLogits(model: tf.LayersModel, ids: number[]): tf.Tensor {
  return tf.tidy(() => {
    const logits = model.predict(tf.tensor2d(ids, [1, ids.length], 'int32')) as tf.Tensor3D;
    return tf.slice(logits, [0, ids.length - 1, 0], [1, 1, -1]);
  });
}

await initBackend({onWarning: (m) => process.stderr.write(`${m}\n`)});
const backend = tf.getBackend();
const model = buildCausalLM(CONFIG, VOCAB);
const rng = new Rng(1);
const prompt = Array.from({length: PROMPT}, () => Math.floor(rng.next() * 256));

// Warm-up: kernels and any per-model setup of both paths.
const warm = new CachedDecoder(model, CONFIG);
for (let i = 0; i < 4; i++) await argmax(warm.step(i === 0 ? prompt : [i]));
warm.dispose();
await argmax(recomputeLogits(model, prompt));

const decoder = new CachedDecoder(model, CONFIG);
const cachedIds: number[] = [];
const recomputedIds: number[] = [];
const cachedMs: number[] = [];
const recomputeMs: number[] = [];
let nextCached = await argmax(decoder.step(prompt)); // prompt processing is not a decoding step
let nextRecomputed = await argmax(recomputeLogits(model, prompt));
for (let i = 0; i < NEW_TOKENS; i++) {
  cachedIds.push(nextCached);
  recomputedIds.push(nextRecomputed);
  let t0 = performance.now();
  nextCached = await argmax(decoder.step([nextCached]));
  cachedMs.push(performance.now() - t0);
  t0 = performance.now();
  nextRecomputed = await argmax(recomputeLogits(model, [...prompt, ...recomputedIds]));
  recomputeMs.push(performance.now() - t0);
}
decoder.dispose();

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sameTokens = cachedIds.every((id, i) => id === recomputedIds[i]);
const {report} = applyLoRA(model, {rank: 8, targets: 'attn.(q|v)'});

const rows: Row[] = [
  {
    case: 'greedy decode, KV cache',
    backend,
    tokens: NEW_TOKENS,
    ms_per_token: mean(cachedMs),
    tokens_per_s: 1000 / mean(cachedMs),
  },
  {
    case: 'greedy decode, full recompute',
    backend,
    tokens: NEW_TOKENS,
    ms_per_token: mean(recomputeMs),
    tokens_per_s: 1000 / mean(recomputeMs),
  },
  {
    case: 'LoRA r=8 on attn.(q|v)',
    backend,
    trainable_params: report.trainableParams,
    total_params: report.totalParams,
    trainable_pct: (100 * report.trainableParams) / report.totalParams,
  },
];
printRows(rows);
const speedup = mean(recomputeMs) / mean(cachedMs);
printBar(
  'KV cache >= 5x faster per token than recompute',
  speedup >= 5,
  `${speedup.toFixed(1)}x at prompt ${PROMPT} + ${NEW_TOKENS} new tokens on ${backend}`,
);
printBar('cached and recomputed greedy decoding pick the same tokens', sameTokens, sameTokens ? 'yes' : 'no');
