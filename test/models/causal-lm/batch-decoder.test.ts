import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../../src/backend/backend.js';
import {BatchDecoder} from '../../../src/models/causal-lm/batch-decoder.js';
import {CachedDecoder} from '../../../src/models/causal-lm/cached-decoder.js';
import {buildCausalLM, type CausalLMConfig} from '../../../src/models/causal-lm/causal-lm.js';
import {withSeededRandom} from '../../../src/train/seeded-random.js';
import {small, VARIANTS} from './lm-variants.js';

/** The logits of each step of `tokens` after `prompt`, decoded alone with CachedDecoder. */
function alone(
  model: tf.LayersModel,
  config: CausalLMConfig,
  prompt: number[],
  tokens: number[],
): Float32Array[] {
  const decoder = new CachedDecoder(model, config);
  const out: Float32Array[] = [];
  for (const chunk of [prompt, ...tokens.map((t) => [t])]) {
    const logits = decoder.step(chunk);
    out.push(logits.dataSync() as Float32Array);
    logits.dispose();
  }
  decoder.dispose();
  return out;
}

const maxDiff = (a: Float32Array, b: Float32Array) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));

describe('BatchDecoder (continuous batching)', () => {
  beforeAll(async () => {
    await initBackend();
  });

  for (const [name, over] of Object.entries(VARIANTS)) {
    it(`${name}: sequences joining and leaving mid-way get the logits they get alone`, () => {
      const config = small(over);
      const model = withSeededRandom(7, () => buildCausalLM(config, 40));
      // Three sequences: A from the start, B joins after two steps, A leaves, C joins after that.
      const seqs = {
        a: {prompt: [3, 7, 1], tokens: [9, 22, 5, 4]},
        b: {prompt: [5, 30, 2, 11, 8, 1], tokens: [6, 2, 19, 33, 12, 7]},
        c: {prompt: [17], tokens: [8, 8, 3]},
      };
      const want = Object.fromEntries(
        Object.entries(seqs).map(([k, s]) => [k, alone(model, config, s.prompt, s.tokens)]),
      );
      const before = tf.memory().numTensors;
      const batch = new BatchDecoder(model, config);
      const got: Record<string, Float32Array[]> = {a: [], b: [], c: []};
      const handle: Record<string, number> = {};
      const fed: Record<string, number> = {a: 0, b: 0, c: 0};
      const join = (k: keyof typeof seqs) => {
        const {id, logits} = batch.add(seqs[k].prompt);
        handle[k] = id;
        got[k]!.push(logits.dataSync() as Float32Array);
        logits.dispose();
      };
      const step = () => {
        const names = batch.sequences.map((id) => Object.keys(handle).find((k) => handle[k] === id)!);
        const tokens = names.map((k) => seqs[k as keyof typeof seqs].tokens[fed[k]!++]!);
        const logits = batch.step(tokens);
        const rows = logits.arraySync();
        logits.dispose();
        for (const [i, k] of names.entries()) got[k]!.push(Float32Array.from(rows[i]!));
      };
      join('a');
      step();
      step();
      join('b');
      step();
      step();
      batch.remove(handle.a!);
      join('c');
      step();
      step();
      step();
      batch.remove(handle.c!);
      step();
      expect(batch.sequences).toEqual([handle.b]);
      batch.dispose();
      expect(tf.memory().numTensors).toBe(before);

      for (const k of ['a', 'b', 'c']) {
        expect(got[k]!.length).toBe(want[k]!.length);
        for (const [i, row] of got[k]!.entries()) expect(maxDiff(row, want[k]![i]!)).toBeLessThan(1e-5);
      }
      model.dispose();
    });
    it(`${name}: prompts added together (equal and ragged lengths) prefill in batch to the logits they get alone`, () => {
      const config = small(over);
      const model = withSeededRandom(11, () => buildCausalLM(config, 40));
      // One sequence already decoding, then four prompts at once: two of length 3, one of 6, one of 1.
      const first = {prompt: [4, 4, 9, 2], tokens: [7, 3, 1]};
      const seqs = [
        {prompt: [3, 7, 1], tokens: [9, 22]},
        {prompt: [5, 30, 2, 11, 8, 1], tokens: [6, 2]},
        {prompt: [12, 7, 33], tokens: [0, 5]},
        {prompt: [17], tokens: [8, 8]},
      ];
      const want = [first, ...seqs].map((s) => alone(model, config, s.prompt, s.tokens));
      const before = tf.memory().numTensors;
      const batch = new BatchDecoder(model, config);
      const got: Float32Array[][] = [[], [], [], [], []];
      const firstAdded = batch.add(first.prompt);
      got[0]!.push(firstAdded.logits.dataSync() as Float32Array);
      firstAdded.logits.dispose();
      const warm = batch.step([first.tokens[0]!]);
      got[0]!.push(Float32Array.from(warm.dataSync()));
      warm.dispose();
      const added = batch.addAll(seqs.map((s) => s.prompt));
      expect(batch.sequences).toEqual([firstAdded.id, ...added.map((a) => a.id)]);
      for (const [i, a] of added.entries()) {
        got[i + 1]!.push(a.logits.dataSync() as Float32Array);
        a.logits.dispose();
      }
      for (let t = 0; t < 2; t++) {
        const logits = batch.step([first.tokens[t + 1]!, ...seqs.map((s) => s.tokens[t]!)]);
        for (const [i, row] of logits.arraySync().entries()) got[i]!.push(Float32Array.from(row));
        logits.dispose();
      }
      batch.dispose();
      expect(tf.memory().numTensors).toBe(before);
      for (const [k, rows] of got.entries()) {
        expect(rows.length).toBe(want[k]!.length);
        for (const [i, row] of rows.entries()) expect(maxDiff(row, want[k]![i]!)).toBeLessThan(1e-5);
      }
      model.dispose();
    });
  }

  it('refuses a step past the context length and a token count that does not match', () => {
    const config = small({contextLength: 4});
    const model = buildCausalLM(config, 40);
    const batch = new BatchDecoder(model, config);
    batch.add([1, 2, 3]).logits.dispose();
    expect(() => batch.step([1, 2])).toThrow(/one token for each of the 1 sequences/);
    batch.step([4]).dispose();
    expect(() => batch.step([5])).toThrow(/the most the model reads/);
    expect(() => batch.addAll([[1], []])).toThrow(/a prompt must have 1 to 4 tokens/);
    expect(batch.sequences.length).toBe(1);
    batch.dispose();
    model.dispose();
  });
});
