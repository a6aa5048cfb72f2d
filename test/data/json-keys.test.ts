import {describe, expect, it} from 'vitest';
import {DATA_KEYED, snakeKeys} from '../../src/data/json-keys.js';

describe('snakeKeys', () => {
  it('turns every key snake_case but the keys of maps keyed by the data, at any depth', () => {
    const report = {
      rowsIn: 3,
      dropped: {exact_duplicate: 1, tooShort: 2},
      dedup: {stateBytesPerDoc: 4, exact: {sizes: {'2': 1}, largest: [{minSimilarity: 1, removed: ['idA']}]}},
      byOp: {sr: 0, typoX: 1},
      labels: {train: {isSpam: 1}},
    };
    expect(snakeKeys(report)).toEqual({
      rows_in: 3,
      dropped: {exact_duplicate: 1, tooShort: 2},
      dedup: {
        state_bytes_per_doc: 4,
        exact: {sizes: {'2': 1}, largest: [{min_similarity: 1, removed: ['idA']}]},
      },
      by_op: {sr: 0, typoX: 1},
      labels: {train: {is_spam: 1}},
    });
    // split's labels are split → label → rows: every key below them is data.
    expect(snakeKeys(report, [...DATA_KEYED, 'labels']).labels).toEqual({train: {isSpam: 1}});
  });
});
