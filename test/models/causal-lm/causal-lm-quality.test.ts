import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../../src/backend/backend.js';
import {scoreStream} from '../../../src/models/causal-lm/causal-lm-evaluate.js';
import {asLanguageModelRun} from '../../../src/models/causal-lm/causal-lm-run.js';
import {trainLanguageModel} from '../../../src/models/causal-lm/causal-lm-train.js';
import {encodeDocuments, holdoutTail, readTextDocuments} from '../../../src/models/causal-lm/lm-data.js';
import {loadRun} from '../../../src/run/load-run.js';

/** Perplexity of add-one-smoothed token frequencies counted on `train`, over the tokens of `val`. */
function unigramPerplexity(train: Int32Array, val: Int32Array, vocab: number): number {
  const counts = new Float64Array(vocab).fill(1);
  for (const id of train) counts[id]! += 1;
  const total = train.length + vocab;
  let nats = 0;
  for (const id of val.subarray(1)) nats -= Math.log(counts[id]! / total);
  return Math.exp(nats / (val.length - 1));
}

/** Issue 5's bar: a causal LM on a real English text ends well below a unigram model's perplexity. */
describe('causal LM on Moby-Dick', () => {
  let root: string;
  beforeAll(async () => {
    await initBackend();
    root = await mkdtemp(join(tmpdir(), 'dsk-lm-quality-'));
  });
  afterAll(async () => {
    await rm(root, {recursive: true, force: true});
  });

  it('reaches a validation perplexity below 0.7 × the unigram model’s on the held-out tail', async () => {
    const data = 'fixtures/text/moby-dick.txt';
    const out = join(root, 'moby');
    const report = await trainLanguageModel({data, out, preset: 'tiny', steps: 300, lr: 3e-3, seed: 1});
    const run = asLanguageModelRun(await loadRun(out));
    const {train, val} = holdoutTail(await readTextDocuments(data));
    const trainIds = await encodeDocuments(run.tokenizer, train);
    const valIds = await encodeDocuments(run.tokenizer, val);
    const scored = await scoreStream(run, valIds);
    run.model.dispose();
    const model = Math.exp(scored.nats / scored.tokens);
    const unigram = unigramPerplexity(trainIds, valIds, run.tokenizer.vocabSize);
    console.log(
      `Moby-Dick tiny LM (${report.parameters} parameters, ${report.steps} steps, ${report.tokens_per_s.toFixed(0)} tokens/s): ` +
        `validation perplexity ${model.toFixed(1)} vs unigram ${unigram.toFixed(1)} (ratio ${(model / unigram).toFixed(2)}) on ${scored.tokens} tokens`,
    );
    expect(scored.tokens).toBeGreaterThan(5000);
    expect(model).toBeLessThan(0.7 * unigram);
  }, 240_000);
});
