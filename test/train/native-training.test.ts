import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {enabledNativePaths, NATIVE_PATHS, withComposedOps} from '../../src/backend/native-ops.js';
import {Rng} from '../../src/data/rng.js';
import {applyLoRA} from '../../src/lora/lora-model.js';
import {
  buildClassifier,
  CLASSIFIER_HEAD,
  DEFAULT_CLASSIFIER_CONFIG,
} from '../../src/models/text-classifier/classifier.js';
import {arrayBatchSource} from '../../src/train/batch-source.js';
import {sparseCrossEntropy} from '../../src/train/losses.js';
import {trainableFromLayersModel} from '../../src/train/trainable.js';
import {train} from '../../src/train/trainer.js';
import {DEFAULT_LORA_TARGETS} from '../../src/workflows/finetune-options.js';

const MAX_LEN = 10;
const VOCAB = 40;

interface Row {
  ids: number[];
  label: number;
  weight: number;
}

/** Token rows padded at the end (id 0), three labels, sample weights of 0 (masked), 1 and 2.5. */
function rows(n: number): Row[] {
  const rng = new Rng(5);
  return Array.from({length: n}, (_, i) => {
    const length = 3 + Math.floor(rng.next() * (MAX_LEN - 3));
    const ids = Array.from({length: MAX_LEN}, (_, t) =>
      t < length ? 1 + Math.floor(rng.next() * (VOCAB - 1)) : 0,
    );
    return {ids, label: i % 3, weight: [1, 0, 2.5][i % 3 === 0 ? Math.floor(rng.next() * 3) : 0]!};
  });
}

/**
 * A tiny transformer classifier trained for 8 steps the way `finetune` trains it (clipped, at a norm
 * low enough that clipping acts; weight decay on, a large LoRA learning rate), with LoRA (adapters on the
 * attention and FFN down projections, the rest of the base frozen, a trainable head) or with every
 * weight. Returns the per-step losses and gradient norms, the weights before and after, and which
 * weights were trainable.
 */
async function run(method: 'lora' | 'full') {
  const config = {
    ...DEFAULT_CLASSIFIER_CONFIG,
    maxLen: MAX_LEN,
    dModel: 16,
    numLayers: 1,
    numHeads: 2,
    ffnHidden: 24,
    dropout: 0,
  };
  const base = buildClassifier(config, VOCAB, 3);
  // Weights from a fixed stream, so both runs start from the same model.
  const init = new Rng(3);
  for (const w of base.weights) fill(w, init, 0.6);
  let model = base;
  if (method === 'lora') {
    model = applyLoRA(base, {targets: DEFAULT_LORA_TARGETS, rank: 4, alpha: 8}).model;
    base.dispose();
    model.getLayer(CLASSIFIER_HEAD).trainable = true;
    // A is random and B zero at first: both from a fixed stream here, so both runs start alike and
    // the adapters reach the loss from the first step.
    const rng = new Rng(9);
    for (const w of model.trainableWeights) if (w.name.includes('lora_')) fill(w, rng, 0.4);
  }
  // tfjs numbers weight names per process: compare them without the number.
  const plain = (name: string) => name.replace(/_\d+$/, '');
  const trainable = new Set(model.trainableWeights.map((w) => plain(w.name)));
  const names = model.weights.map((w) => plain(w.name));
  const before = model.getWeights().map((w) => Array.from(w.dataSync()));
  const steps: {loss: number; gradNorm: number}[] = [];
  await train({
    model: trainableFromLayersModel(model),
    loss: (batch, ctx) =>
      sparseCrossEntropy(
        model.apply(batch.inputs, {training: ctx.training}) as tf.Tensor,
        batch.targets,
        batch.weights,
      ),
    data: arrayBatchSource(rows(48), {
      batchSize: 8,
      seed: 1,
      collate: (rs) => ({
        inputs: tf.tensor2d(
          rs.map((r) => r.ids),
          [rs.length, MAX_LEN],
          'int32',
        ),
        targets: tf.tensor1d(
          rs.map((r) => r.label),
          'int32',
        ),
        weights: tf.tensor1d(rs.map((r) => r.weight)),
      }),
    }),
    steps: 8,
    lr: method === 'lora' ? 3e-2 : 3e-3,
    clipNorm: 0.25,
    optimizer: {weightDecay: 0.1},
    logEvery: 1,
    onStep: (e) => steps.push({loss: e.loss, gradNorm: e.gradNorm!}),
  });
  const after = model.getWeights().map((w) => Array.from(w.dataSync()));
  model.dispose();
  return {steps, names, trainable, before, after};
}

/** Sets `w` to values uniform in ±scale/2 drawn from `rng`. */
function fill(w: tf.LayerVariable, rng: Rng, scale: number): void {
  const shape = w.shape as number[];
  const values = Array.from({length: shape.reduce((a, b) => a * b, 1)}, () => (rng.next() - 0.5) * scale);
  const t = tf.tensor(values, shape);
  w.write(t);
  t.dispose();
}

const maxRelDiff = (a: number[], b: number[]) =>
  Math.max(...a.map((x, i) => Math.abs(x - b[i]!))) / Math.max(1, ...b.map(Math.abs));

describe('training with native ops equals training with the composed ops', () => {
  let native = false;
  beforeAll(async () => {
    native = (await initBackend()).name === 'tensorflow';
  });

  for (const method of ['lora', 'full'] as const) {
    it(`${method}: the same losses, gradient norms and weights for 8 clipped, weighted, decayed steps; frozen weights untouched`, async (ctx) => {
      if (!native) ctx.skip();
      const fused = await run(method);
      const composed = await withComposedOps(() => run(method));
      expect(fused.names).toEqual(composed.names);
      expect(fused.steps).toHaveLength(8);
      for (const [i, s] of fused.steps.entries()) {
        const c = composed.steps[i]!;
        expect(Math.abs(s.loss - c.loss), `step ${i + 1} loss`).toBeLessThanOrEqual(
          1e-5 * Math.max(1, c.loss),
        );
        expect(Math.abs(s.gradNorm - c.gradNorm), `step ${i + 1} grad norm`).toBeLessThanOrEqual(
          1e-5 * Math.max(1, c.gradNorm),
        );
      }
      // Clipping acted.
      expect(Math.max(...composed.steps.map((s) => s.gradNorm))).toBeGreaterThan(0.25);
      for (const [i, name] of fused.names.entries()) {
        expect(maxRelDiff(fused.after[i]!, composed.after[i]!), name).toBeLessThanOrEqual(1e-5);
        const moved = maxRelDiff(fused.after[i]!, fused.before[i]!);
        if (fused.trainable.has(name)) expect(moved, `${name} trained`).toBeGreaterThan(1e-4);
        else expect(fused.after[i], `${name} frozen`).toEqual(fused.before[i]);
      }
      if (method === 'lora') {
        const frozen = fused.names.filter((n) => !fused.trainable.has(n));
        expect(frozen.filter((n) => n.startsWith('block0/kernel')).length).toBeGreaterThanOrEqual(7);
        expect([...fused.trainable].every((n) => /lora_[ab]|logits/.test(n))).toBe(true);
      }
    });
  }
});

describe('DSK_NATIVE_OPS', () => {
  it('turns native paths on and off by name, and names the choices when a name is wrong', () => {
    expect([...enabledNativePaths(undefined)]).toEqual([...NATIVE_PATHS]);
    expect([...enabledNativePaths('all')]).toEqual([...NATIVE_PATHS]);
    expect(enabledNativePaths('none').size).toBe(0);
    expect([...enabledNativePaths('loss, adamw')]).toEqual(['loss', 'adamw']);
    expect(() => enabledNativePaths('loss,fast')).toThrow(
      /unknown path fast — use all, none or .*loss, clip/,
    );
  });
});
