import {describe, expect, it} from 'vitest';
import {chooseChunks, expertCapacity, planDispatch} from '../../../src/layers/moe/dispatch-plan.js';

describe('planDispatch', () => {
  it('groups choices by expert in one chunk per expert, with inverse row maps', () => {
    // 4 tokens, k = 2, 3 experts.
    const indices = Int32Array.from([0, 1, 1, 2, 0, 2, 1, 0]);
    const plan = planDispatch(indices, 4, 2, 3);
    expect([...plan.load]).toEqual([3, 3, 2]);
    expect(plan.chunkSize).toBe(3);
    expect(plan.chunkExpert).toBeNull();
    // expert 0 rows 0..2: tokens 0, 2, 3; expert 1 rows 3..5: tokens 0, 1, 3; expert 2 rows 6..7 + pad.
    expect([...plan.tokenIndex]).toEqual([0, 2, 3, 0, 1, 3, 1, 2, 0]);
    expect([...plan.combineIndex]).toEqual([0, 3, 4, 6, 1, 7, 5, 2]);
    plan.combineIndex.forEach((row, choice) => {
      expect(plan.rowChoice[row]).toBe(choice);
    });
    expect(plan.rowChoice[8]).toBe(-1);
  });

  it("in the grouped layout puts each expert's rows after the previous expert's, without padding", () => {
    const indices = Int32Array.from([0, 1, 1, 2, 0, 2, 1, 0]);
    const plan = planDispatch(indices, 4, 2, 4, null, 'grouped');
    expect(plan.layout).toBe('grouped');
    expect([...plan.counts]).toEqual([3, 3, 2, 0]);
    // expert 0 rows 0..2: tokens 0, 2, 3; expert 1 rows 3..5: tokens 0, 1, 3; expert 2 rows 6..7.
    expect([...plan.tokenIndex]).toEqual([0, 2, 3, 0, 1, 3, 1, 2]);
    expect([...plan.combineIndex]).toEqual([0, 3, 4, 6, 1, 7, 5, 2]);
    expect([...plan.rowChoice].every((c) => c >= 0)).toBe(true);
    expect(plan.chunkExpert).toBeNull();
  });

  it('drops over capacity: first choices before second choices, then token order', () => {
    // Tokens 0, 1 pick (0, 1); tokens 2, 3 pick (1, 0). Capacity 2 per expert.
    const indices = Int32Array.from([0, 1, 0, 1, 1, 0, 1, 0]);
    expect(expertCapacity(0.5, 4, 2, 2)).toBe(2);
    const plan = planDispatch(indices, 4, 2, 2, 2);
    // Token order alone would keep token 0's second choice (expert 1) over token 3's first; the
    // priority keeps every first choice and drops every second one.
    expect([...plan.counts]).toEqual([2, 2]);
    expect([...plan.load]).toEqual([4, 4]);
    expect(plan.dropped).toBe(4);
    const kept = [...plan.combineIndex].map((r) => r >= 0);
    expect(kept).toEqual([true, false, true, false, true, false, true, false]);
    expect(expertCapacity(0, 4, 2, 2)).toBeNull();
  });

  it('splits a busy expert into several chunks when padding would dominate', () => {
    const counts = Int32Array.from([256, 10, 12, 8, 0, 9, 11, 10]);
    const {chunkSize, chunksPerExpert} = chooseChunks(counts);
    const rows = chunksPerExpert.reduce((a, b) => a + b, 0) * chunkSize;
    expect(rows).toBeLessThan(8 * 256 * 0.5);
    counts.forEach((c, e) => {
      expect(chunksPerExpert[e]! * chunkSize).toBeGreaterThanOrEqual(c);
    });
    // Balanced loads keep one chunk per expert (no weight gather).
    expect(chooseChunks(Int32Array.from([60, 64, 58, 62])).chunksPerExpert).toEqual([1, 1, 1, 1]);
  });

  it("'auto' keeps padded chunks for balanced loads and groups rows for skewed ones", () => {
    // 2,048 tokens, k = 2, 8 experts: token t picks experts by a fixed pattern.
    const plan = (pick: (t: number, j: number) => number) => {
      const indices = Int32Array.from({length: 4096}, (_, i) => pick(i >> 1, i & 1));
      return planDispatch(indices, 2048, 2, 8, null, 'auto');
    };
    const balanced = plan((t, j) => (t + 4 * j) % 8); // 512 rows per expert
    expect(balanced.layout).toBe('chunks');
    expect(balanced.tokenIndex.length).toBe(4096);
    // Experts 0 and 1 take most tokens: padded chunks would need weight gathers and padding.
    const skewed = plan((t, j) => (j === 0 ? (t % 5 < 4 ? 0 : 2 + (t % 6)) : t % 3 === 0 ? 2 + (t % 6) : 1));
    expect(skewed.layout).toBe('grouped');
    expect(skewed.tokenIndex.length).toBe(4096);
  });
});
