import {readFile} from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {ByteTokenizer} from '../../src/tokenizer/byte-tokenizer.js';
import {arrayBatchSource} from '../../src/train/batch-source.js';
import {sparseCrossEntropy} from '../../src/train/losses.js';
import {trainableFromVariables} from '../../src/train/trainable.js';
import {type StepEvent, train} from '../../src/train/trainer.js';

beforeAll(async () => {
  await initBackend();
});

// The engine on language-model-shaped batches: [batch, seq] ids, next-byte targets, a loss over
// [batch, seq, vocab], tokens counted for tokens/s. The model is a bigram table (logits = W[x_t]).
describe('train: a byte bigram language model on Moby-Dick', () => {
  it('beats the unigram entropy of held-out text', async () => {
    const tok = new ByteTokenizer();
    const text = await readFile('fixtures/text/moby-dick.txt', 'utf8');
    const ids = tok.encodeSync(text);
    const cut = Math.floor(ids.length * 0.9);
    const seq = 64;
    const windows = (from: number, to: number) => {
      const out: number[][] = [];
      for (let i = from; i + seq + 1 <= to; i += seq) out.push(ids.slice(i, i + seq + 1));
      return out;
    };
    const collate = (rows: number[][]) => ({
      inputs: tf.tensor2d(
        rows.map((r) => r.slice(0, -1)),
        undefined,
        'int32',
      ),
      targets: tf.tensor2d(
        rows.map((r) => r.slice(1)),
        undefined,
        'int32',
      ),
      tokens: rows.length * seq,
    });
    const valWindows = windows(cut, ids.length).slice(0, 64);
    // Unigram model of the training bytes: its cross-entropy on the held-out bytes, in nats.
    const counts = new Array<number>(tok.vocabSize).fill(1);
    for (const id of ids.slice(0, cut)) counts[id]! += 1;
    const total = counts.reduce((a, b) => a + b);
    const heldOut = valWindows.flatMap((w) => w.slice(1));
    const unigram = -heldOut.reduce((s, id) => s + Math.log(counts[id]! / total), 0) / heldOut.length;

    const table = tf.variable(tf.zeros([tok.vocabSize, tok.vocabSize]));
    const steps: StepEvent[] = [];
    const result = await train({
      model: trainableFromVariables({table}),
      loss: (batch) => sparseCrossEntropy(tf.gather(table, batch.inputs as tf.Tensor), batch.targets),
      data: arrayBatchSource(windows(0, cut), {batchSize: 16, seed: 3, collate}),
      validation: arrayBatchSource(valWindows, {batchSize: 32, seed: 0, shuffle: false, collate}),
      steps: 150,
      lr: 0.1,
      optimizer: {weightDecay: 0},
      onStep: (e) => steps.push(e),
    });
    tf.dispose(table);
    expect(steps[0]!.loss).toBeCloseTo(Math.log(tok.vocabSize), 3);
    expect(steps[0]!.tokens).toBe(16 * seq);
    expect(steps.at(-1)!.tokensPerSecond).toBeGreaterThan(0);
    expect(result.lastEval!.val_loss).toBeLessThan(unigram - 0.3);
  });
});
