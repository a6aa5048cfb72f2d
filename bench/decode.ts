// npm run bench:decode [-- --json]: per-token time of greedy-style decoding through a stack of
// decoder blocks, with the KV cache (each step runs only the new token) and without it (each step
// re-runs the whole prefix), plus the parameter share LoRA on attn.(q|v) trains in that stack.
import * as tf from '@tensorflow/tfjs';
import {applyLoRA, DecoderBlock, disposeKVCache, initBackend, type KVCache} from '../src/index.js';
import {printBar, printRows, type Row} from './report.js';

const D_MODEL = 256;
const BLOCKS = 4;
const PROMPT = 64;
const NEW_TOKENS = 192;

function stack(): DecoderBlock[] {
  return Array.from(
    {length: BLOCKS},
    (_, i) => new DecoderBlock({name: `block${i}`, dModel: D_MODEL, numHeads: 8, numKvHeads: 2}),
  );
}

/** Stands in for embedding the sampled token: a fixed vector per position. */
const tokenAt = (pos: number) => tf.randomNormal([1, 1, D_MODEL], 0, 1, 'float32', pos) as tf.Tensor3D;

async function cachedMsPerToken(blocks: DecoderBlock[], prompt: tf.Tensor3D): Promise<number> {
  let caches: (KVCache | null)[] = blocks.map(() => null);
  const run = (x: tf.Tensor3D): tf.Tensor3D => {
    let h = x;
    caches = blocks.map((block, i) => {
      const step = block.callWithCache(h, caches[i]);
      disposeKVCache(caches[i]);
      if (h !== x) h.dispose();
      h = step.output;
      return step.cache;
    });
    return h;
  };
  run(prompt).dispose();
  const t0 = performance.now();
  for (let i = 0; i < NEW_TOKENS; i++) {
    const x = tokenAt(PROMPT + i);
    const y = run(x);
    await y.data(); // the sampler would read the logits here
    tf.dispose([x, y]);
  }
  const ms = (performance.now() - t0) / NEW_TOKENS;
  for (const c of caches) disposeKVCache(c);
  return ms;
}

async function uncachedMsPerToken(blocks: DecoderBlock[], prompt: tf.Tensor3D): Promise<number> {
  let seq = prompt.clone();
  const t0 = performance.now();
  for (let i = 0; i < NEW_TOKENS; i++) {
    const y = tf.tidy(() =>
      blocks.reduce((h, b) => b.apply(h) as tf.Tensor3D, seq).slice([0, seq.shape[1] - 1, 0], [-1, 1, -1]),
    );
    await y.data();
    const x = tokenAt(PROMPT + i);
    const next = tf.concat([seq, x], 1);
    tf.dispose([y, x, seq]);
    seq = next;
  }
  seq.dispose();
  return (performance.now() - t0) / NEW_TOKENS;
}

const backend = await initBackend();
const blocks = stack();
const prompt = tf.randomNormal([1, PROMPT, D_MODEL], 0, 1, 'float32', 0) as tf.Tensor3D;
for (const b of blocks) b.apply(prompt); // build and warm up
const cached = await cachedMsPerToken(blocks, prompt);
const uncached = await uncachedMsPerToken(blocks, prompt);

const input = tf.input({shape: [PROMPT, D_MODEL]});
const body = tf.model({
  inputs: input,
  outputs: stack().reduce((h, b) => b.apply(h) as tf.SymbolicTensor, input),
});
const {report} = applyLoRA(body, {rank: 8, targets: 'attn.(q|v)'});

const rows: Row[] = [
  {case: 'decode, KV cache', backend: backend.name, tokens: NEW_TOKENS, ms_per_token: cached},
  {case: 'decode, full recompute', backend: backend.name, tokens: NEW_TOKENS, ms_per_token: uncached},
  {
    case: 'LoRA r=8 on attn.(q|v)',
    backend: backend.name,
    trainable_params: report.trainableParams,
    total_params: report.totalParams,
    trainable_pct: (100 * report.trainableParams) / report.totalParams,
  },
];
printRows(rows);
printBar(
  'KV cache faster than recompute',
  cached < uncached,
  `${(uncached / cached).toFixed(1)}x at ${PROMPT + NEW_TOKENS} tokens`,
);
