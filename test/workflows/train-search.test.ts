import {existsSync, readdirSync} from 'node:fs';
import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {parseDuration} from '../../src/cli/duration.js';
import {openRun} from '../../src/models/registry.js';
import {formatBudgetSearch, trainWithBudget} from '../../src/workflows/train-search.js';

let root: string;
beforeAll(async () => {
  await initBackend();
  root = await mkdtemp(join(tmpdir(), 'dsk-budget-'));
});
afterAll(() => rm(root, {recursive: true, force: true}));

describe('train --budget', () => {
  it('parses durations and names a bad one', () => {
    expect(parseDuration('90')).toBe(90);
    expect(parseDuration('90s')).toBe(90);
    expect(parseDuration('5m')).toBe(300);
    expect(parseDuration('1.5h')).toBe(5400);
    expect(() => parseDuration('5 minutes')).toThrow(/--budget "5 minutes" is not a duration/);
    expect(() => parseDuration('0s')).toThrow(/not a duration/);
  });

  it('successive halving on the Reuters fixture keeps the best validated run within the budget', async () => {
    const out = join(root, 'reuters');
    const budget = 20;
    const report = await trainWithBudget('classify', {
      data: 'fixtures/reuters/news.jsonl',
      out,
      budgetSeconds: budget,
      presets: ['bag', 'tiny'],
      lrFactors: [1, 3],
      rungEpochs: [1, 2],
      overrides: {maxLen: 64},
    });
    const table = formatBudgetSearch(report);
    console.log(table);
    expect(report.trials.length).toBeGreaterThanOrEqual(2);
    const validated = report.trials.filter((t) => t.val_acc !== undefined && t.status !== 'failed');
    expect(report.winner.val_acc).toBe(Math.max(...validated.map((t) => t.val_acc!)));
    expect(report.reason).toContain(report.winner.candidate);
    expect(table).toContain('← kept');
    // Stopping a run at the deadline costs at most its last save on top of the budget.
    expect(report.seconds).toBeLessThan(budget + 20);
    expect(existsSync(`${out}.search`)).toBe(false);
    const {kind, run} = await openRun(out);
    try {
      expect(run.labels).toHaveLength(6);
      const metric = await kind.metric(run, run.model, 'fixtures/reuters/news.jsonl');
      expect((metric as {accuracy: number}).accuracy).toBeGreaterThan(0.5);
    } finally {
      run.model.dispose();
    }

    // --overwrite: the old run is replaced by the new winner as a whole, and nothing is left beside it.
    await writeFile(join(out, 'old-marker'), 'x');
    await trainWithBudget('classify', {
      data: 'fixtures/reuters/news.jsonl',
      out,
      overwrite: true,
      budgetSeconds: 20,
      presets: ['bag'],
      lrFactors: [1],
      rungEpochs: [1],
      overrides: {maxLen: 64},
    });
    expect(existsSync(join(out, 'old-marker'))).toBe(false);
    expect(existsSync(join(out, 'model', 'model.json'))).toBe(true);
    expect(readdirSync(root).filter((f) => f.startsWith('.reuters'))).toEqual([]);
  }, 120_000);
});
