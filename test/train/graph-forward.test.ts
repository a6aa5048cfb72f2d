import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {
  buildCausalLM,
  CAUSAL_LM_PRESETS,
  type CausalLMConfig,
  DEFAULT_CAUSAL_LM_CONFIG,
} from '../../src/models/causal-lm/causal-lm.js';
import {lmBatchSource} from '../../src/models/causal-lm/lm-data.js';
import {GraphForward} from '../../src/train/graph-forward.js';
import {graphStepsEnabled} from '../../src/train/graph-step.js';

// A captured forward pass (src/train/graph-forward.ts) gives the logits `predict` gives, op by op.
let capturing = false;
beforeAll(async () => {
  await initBackend();
  capturing = graphStepsEnabled();
});

const TEXT = Int32Array.from(
  Buffer.from('Call me Ishmael. Some years ago, never mind how long precisely, '.repeat(4)),
);
const TINY = {contextLength: 16, dModel: 32, numLayers: 1, numHeads: 2, ffnHidden: 48};

/** moe-lm's MoE, small, in the tiny LM; `extra` MoE options on top. */
function tinyMoE(extra: Partial<NonNullable<CausalLMConfig['moe']>> = {}): CausalLMConfig {
  const moe = {...CAUSAL_LM_PRESETS['moe-lm'].moe!, numExperts: 4, expertHidden: 16, numShared: 1, ...extra};
  return {...DEFAULT_CAUSAL_LM_CONFIG, ...TINY, ffn: 'moe', moe};
}

/** Max |logit difference| of five GraphForward passes against `predict`, and how they ran. */
async function compare(config: CausalLMConfig) {
  const model = buildCausalLM(config, 256);
  const {inputs} = await lmBatchSource(TEXT, 16, 4, 1, true).batch(0, 0);
  const x = inputs as tf.Tensor;
  const eager = model.predict(x) as tf.Tensor;
  const ref = eager.dataSync();
  const reasons: string[] = [];
  const forward = new GraphForward(model, {onFallback: (r) => reasons.push(r)});
  const before = tf.memory().numTensors;
  let diff = 0;
  for (let i = 0; i < 5; i++) {
    const out = forward.predict(x);
    expect(out.shape).toEqual([4, 16, 256]);
    const v = out.dataSync();
    for (let j = 0; j < v.length; j++) diff = Math.max(diff, Math.abs(v[j]! - ref[j]!));
    out.dispose();
  }
  const leaked = tf.memory().numTensors - before;
  const report = forward.report();
  forward.dispose();
  tf.dispose([eager, x]);
  model.dispose();
  return {diff, report, reasons, leaked};
}

describe('GraphForward', () => {
  it('replays a dense causal LM as one function, same logits to 1e-5, no tensor leak', async () => {
    const {diff, report, reasons, leaked} = await compare({...DEFAULT_CAUSAL_LM_CONFIG, ...TINY});
    expect(diff).toBeLessThan(1e-5);
    expect(leaked).toBe(0);
    expect(reasons).toEqual([]);
    if (capturing) expect(report).toEqual({replayed: 2, eager: 3});
    else expect(report).toBeUndefined();
  });

  it('replays an MoE model (its router runs in TensorFlow while recorded), same logits, no leak', async () => {
    const {diff, report, reasons, leaked} = await compare(tinyMoE());
    expect(diff).toBeLessThan(1e-5);
    expect(leaked).toBe(0);
    expect(reasons).toEqual([]);
    if (capturing) expect(report).toEqual({replayed: 2, eager: 3});
  });

  it('runs an MoE with a balancing bias op by op (its routing reads back), saying why, same logits', async () => {
    const {diff, report, reasons, leaked} = await compare(tinyMoE({biasUpdateSpeed: 1e-3}));
    expect(diff).toBeLessThan(1e-5);
    expect(leaked).toBe(0);
    if (!capturing) return;
    expect(report?.replayed).toBe(0);
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/reads a tensor back/);
  });
});
