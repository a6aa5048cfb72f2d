import {describe, expect, it} from 'vitest';
import {ClassifyBatcher} from '../../src/serve/classify-batcher.js';

/** A stand-in model: row i's "probabilities" are [x, −x] of its `x`; it records each batch's rows. */
function fakeModel(fail?: (xs: number[]) => boolean) {
  const batches: number[][] = [];
  const classify = async (rows: Record<string, unknown>[]) => {
    const xs = rows.map((r) => r.x as number);
    batches.push(xs);
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (fail?.(xs)) throw new Error('model failed');
    return Float32Array.from(xs.flatMap((x) => [x, -x]));
  };
  return {batches, classify};
}

const rows = (...xs: number[]) => xs.map((x) => ({x}));

describe('ClassifyBatcher', () => {
  it('runs requests together up to max-batch rows and gives each caller its own rows', async () => {
    const model = fakeModel();
    const batcher = new ClassifyBatcher(model.classify, 2, {maxBatch: 4, maxWaitMs: 1000});
    const answers = await Promise.all([
      batcher.run(rows(1, 2)),
      batcher.run(rows(3)),
      batcher.run(rows(4)),
      batcher.run(rows(5, 6)),
      batcher.run(rows(7)),
    ]);
    expect(answers.map((a) => Array.from(a))).toEqual([
      [1, -1, 2, -2],
      [3, -3],
      [4, -4],
      [5, -5, 6, -6],
      [7, -7],
    ]);
    // Full batches run at once; the last, smaller one after max-wait-ms.
    expect(model.batches).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7],
    ]);
    expect(batcher.depth).toBe(0);
  });

  it('runs a request larger than max-batch alone, and max-batch 1 one request at a time', async () => {
    const model = fakeModel();
    const batcher = new ClassifyBatcher(model.classify, 2, {maxBatch: 2, maxWaitMs: 1000});
    await Promise.all([batcher.run(rows(1, 2, 3)), batcher.run(rows(4)), batcher.run(rows(5))]);
    expect(model.batches).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
    const single = fakeModel();
    const one = new ClassifyBatcher(single.classify, 2, {maxBatch: 1, maxWaitMs: 1000});
    await Promise.all([one.run(rows(1)), one.run(rows(2)), one.run(rows(3))]);
    expect(single.batches).toEqual([[1], [2], [3]]);
  });

  it('does not wait out max-wait-ms when the model is idle and no other request is on its way', async () => {
    const model = fakeModel();
    let arriving = 0;
    // A wait of ten minutes: only the early flush can answer within the test's timeout.
    const batcher = new ClassifyBatcher(model.classify, 2, {
      maxBatch: 8,
      maxWaitMs: 600_000,
      arriving: () => arriving,
    });
    expect(Array.from(await batcher.run(rows(1)))).toEqual([1, -1]);
    // While another request is on its way, the queue waits for it; the last one to arrive flushes.
    arriving = 1;
    const waiting = [batcher.run(rows(2)), batcher.run(rows(3))];
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(model.batches.length).toBe(1);
    arriving = 0;
    const answers = await Promise.all([...waiting, batcher.run(rows(4))]);
    expect(answers.map((a) => a[0])).toEqual([2, 3, 4]);
    expect(model.batches).toEqual([[1], [2, 3, 4]]);
  }, 20_000);

  it('rejects the requests of a failed batch only', async () => {
    const model = fakeModel((xs) => xs.includes(13));
    const batcher = new ClassifyBatcher(model.classify, 2, {maxBatch: 2, maxWaitMs: 1000});
    const results = await Promise.allSettled([
      batcher.run(rows(1)),
      batcher.run(rows(2)),
      batcher.run(rows(13)),
      batcher.run(rows(4)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected']);
    await batcher.drained();
  });
});
