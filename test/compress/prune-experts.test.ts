import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {loadRun} from '../../src/run/load-run.js';
import {pruneRun} from '../../src/workflows/prune.js';
import {trainRun} from '../../src/workflows/train.js';

const TRAIN = 'fixtures/imdb/reviews.jsonl';
const TEST = 'fixtures/imdb/test.jsonl';

describe('prune --method experts on an MoE classifier (IMDB fixture)', () => {
  let root: string;
  beforeAll(async () => {
    await initBackend();
    root = await mkdtemp(join(tmpdir(), 'dsk-prune-experts-'));
  });
  afterAll(() => rm(root, {recursive: true, force: true}));

  it('experts: drop the least-used half of an MoE classifier’s experts, router shrunk, config updated', async () => {
    const run = join(root, 'moe');
    await trainRun('classify', {
      data: TRAIN,
      out: run,
      preset: 'tiny',
      epochs: 1,
      overrides: {maxLen: 128, ffn: 'moe', moe: {numExperts: 4, topK: 2, expertHidden: 32, numShared: 1}},
    });
    const out = join(root, 'moe-2');
    const report = await pruneRun({
      model: run,
      out,
      method: 'experts',
      sparsity: 0.5,
      data: TRAIN,
      eval: TEST,
    });
    const [layer] = report.layers as {usage: number[]; kept: number[]}[];
    const ranked = layer!.usage.map((n, e) => [n, e] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    expect(layer!.kept).toEqual(
      ranked
        .slice(0, 2)
        .map(([, e]) => e)
        .sort(),
    );
    // Two experts of 3·32·32 (dModel 32, SwiGLU gate/up/down) and their router columns (32 each); the
    // balance-bias entries go too, but are state, which parameter counts leave out (countParameters).
    expect(report.parameters_before - report.parameters_after).toBe(2 * 3 * 32 * 32 + 2 * 32);
    const pruned = await loadRun(out);
    expect((pruned.config.model as {moe: {numExperts: number; topK: number}}).moe).toMatchObject({
      numExperts: 2,
      topK: 2,
    });
    pruned.model.dispose();
    console.log(
      `experts 4 → 2 (tiny MoE, usage ${layer!.usage.join('/')} on the training set): parameters ` +
        `${report.parameters_before} → ${report.parameters_after}, accuracy ${(100 * report.accuracy_before!).toFixed(1)} → ` +
        `${(100 * report.accuracy_after!).toFixed(1)}`,
    );
  }, 90_000);
});
