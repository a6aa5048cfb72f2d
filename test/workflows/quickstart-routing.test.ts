import {describe, expect, it} from 'vitest';
import {formatRouting, lastStepsMetrics, routingFromMetrics} from '../../src/workflows/quickstart-routing.js';

describe('quickstart routing summary', () => {
  it('reads per-expert load and the balance loss from the training metrics', () => {
    const metrics = {
      acc: 0.9,
      moe_load: 1.5,
      'moe/block0/ffn/e0': 1.5,
      'moe/block0/ffn/e1': 0.5,
      'moe/block1/ffn/e1': 0.8,
      'moe/block1/ffn/e0': 1.2,
      'moe/aux_loss': 0.0206,
    };
    const r = routingFromMetrics(metrics, 0.01)!;
    expect(r.layers).toEqual([
      {layer: 'block0/ffn', load: [1.5, 0.5]},
      {layer: 'block1/ffn', load: [1.2, 0.8]},
    ]);
    expect(r.max_load).toBe(1.5);
    expect(r.aux_loss).toBe(0.0206);
    // Two layers share the aux loss: 0.0206 / 0.01 / 2.
    expect(r.balance_loss).toBeCloseTo(1.03, 10);
    expect(formatRouting(r)).toBe(
      'expert load × fair share: block0/ffn 1.50 0.50; block1/ffn 1.20 0.80; balance loss 1.030 (1 = even, 2 = collapsed)',
    );
    expect(routingFromMetrics(metrics, 0)!.balance_loss).toBeNull();
  });

  it('is undefined for a model without MoE layers', () => {
    expect(routingFromMetrics({acc: 0.9, loss: 0.3}, 0.01)).toBeUndefined();
  });

  it('averages the metrics of the last n steps only', () => {
    const last = lastStepsMetrics(2);
    for (const x of [10, 1, 3]) last.add({'moe/aux_loss': x});
    expect(last.mean()).toEqual({'moe/aux_loss': 2});
  });
});

describe('the tour as a library', () => {
  it('is importable from the package entry, with both halves and their settings', async () => {
    const kit = await import('../../src/index.js');
    for (const name of [
      'quickstart',
      'classifierTour',
      'languageModelTour',
      'routingFromMetrics',
      'formatRouting',
    ]) {
      expect(typeof kit[name as keyof typeof kit], name).toBe('function');
    }
    expect(kit.QUICKSTART_PARTS).toEqual(['classifier', 'lm']);
    expect(kit.TOUR_CLASSIFIER.ffn).toBe('moe');
    expect(kit.TOUR_LM.ffn).toBe('moe');
  });
});
