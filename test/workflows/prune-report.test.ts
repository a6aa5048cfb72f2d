import {describe, expect, it} from 'vitest';
import type {PruneRunReport} from '../../src/workflows/prune.js';
import {formatPruneReport} from '../../src/workflows/prune-report.js';

const base = {
  model: 'runs/a',
  out: 'runs/b',
  sparsity_target: 0.5,
  zeros_fraction: 0,
  size_bytes_before: 4096,
  size_bytes_after: 2048,
} as const;

describe('formatPruneReport', () => {
  it('structured: one line per kind removed with its total and parameters, then each layer', () => {
    const report: PruneRunReport = {
      ...base,
      method: 'structured',
      sparsity: 0.25,
      parameters_before: 1000,
      parameters_after: 750,
      structures: [
        {
          structure: 'heads',
          before: 4,
          after: 2,
          parameters_removed: 200,
          layers: [
            {
              layer: 'block0',
              heads_before: 4,
              heads_after: 2,
              kv_heads_before: 2,
              kv_heads_after: 1,
              head_dim: 8,
            },
          ],
        },
        {
          structure: 'units',
          before: 12,
          after: 6,
          parameters_removed: 50,
          layers: [{layer: 'block0_up', next: 'block0_down', units_before: 12, units_after: 6}],
        },
        {
          structure: 'ffn',
          before: 3,
          after: 3,
          parameters_removed: 0,
          layers: [{layer: 'block0', hidden_before: 3, hidden_after: 3}],
        },
      ],
      finetune_steps: 20,
    };
    expect(formatPruneReport(report).split('\n')).toEqual([
      'structured: parameters 1000 → 750, weights 4.0 KB → 2.0 KB (50.0%)',
      'removed       25.0% of the parameters',
      'heads         4 → 2 (−200 parameters)',
      '  block0: heads 4 → 2 (kv 2 → 1), head size 8',
      'dense units   12 → 6 (−50 parameters)',
      '  block0_up → block0_down: units 12 → 6',
      'ffn neurons   3 → 3 (none removed at this sparsity: round((1 − sparsity)·n) keeps them all)',
      '  block0: ffn hidden 3 → 3',
      'fine-tuned    20 steps',
    ]);
  });
});
