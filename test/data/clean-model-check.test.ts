import {mkdtempSync, readFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {cleanDataset} from '../../src/data/clean.js';
import {applyModelChecks, type ModelCheck} from '../../src/data/clean-model-check.js';
import type {Doc} from '../../src/data/doc.js';

const dir = mkdtempSync(join(tmpdir(), 'dsk-check-'));
const rows = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** A stand-in for a model: the share of letters among the characters, and a log of the batch sizes it saw. */
function letterScorer(calls: number[]): ModelCheck['score'] {
  return async (texts) => {
    calls.push(texts.length);
    return texts.map((t) => (t.length === 0 ? Number.NaN : (t.match(/[a-z]/gi)?.length ?? 0) / t.length));
  };
}

describe('model checks in clean', () => {
  it('scores in batches, keeps the order, writes the score field, keeps what it cannot score', async () => {
    const calls: number[] = [];
    const docs: Doc[] = Array.from({length: 150}, (_, i) => ({
      id: String(i),
      text: i === 7 ? '' : i % 3 === 0 ? '#### 1234 ####' : `plain words number ${i}`,
      fields: {},
    }));
    const check: ModelCheck = {
      name: 'letters',
      score: letterScorer(calls),
      min: 0.5,
      reason: 'low_letters',
      field: 'letters',
      batchSize: 64,
    };
    const out = await applyModelChecks(docs, [check]);
    expect(calls).toEqual([64, 64, 22]);
    expect(out.map((o) => o.doc.id)).toEqual(docs.map((d) => d.id));
    for (const [i, o] of out.entries()) {
      if (i === 7)
        expect(o.verdict.keep).toBe(true); // NaN: kept
      else expect(o.verdict.keep).toBe(i % 3 !== 0);
      if (i !== 7) expect(o.doc.fields.letters).toBeTypeOf('number');
    }
    expect(out[3]!.verdict).toMatchObject({
      keep: false,
      reason: 'low_letters',
      detail: expect.stringMatching(/^letters 0(\.\d+)? < 0\.5$/),
    });
  });

  it('runs after the rules and dedup, on what they keep, and a second check sees only what the first kept', async () => {
    const calls: number[] = [];
    const seen: string[] = [];
    const second: ModelCheck = {
      name: 'length',
      score: async (texts) => {
        seen.push(...texts);
        return texts.map((t) => t.length);
      },
      max: 2000,
      reason: 'too_long_for_model',
    };
    const out = join(dir, 'kept.jsonl');
    const rejected = join(dir, 'rejected.jsonl');
    const report = await cleanDataset({
      input: 'fixtures/imdb/reviews.jsonl',
      output: out,
      rejected,
      checks: [
        {name: 'letters', score: letterScorer(calls), min: 0.76, reason: 'low_letters', field: 'q'},
        second,
      ],
    });
    const dropped = rows(rejected);
    expect(report.dropped.exact_duplicate).toBe(25); // dedup ran first
    expect(report.dropped.low_letters).toBeGreaterThan(0);
    expect(calls.reduce((a, b) => a + b, 0)).toBe(report.rowsIn - 25 - (report.dropped.near_duplicate ?? 0));
    expect(seen.length).toBe(calls.reduce((a, b) => a + b, 0) - report.dropped.low_letters!);
    expect(rows(out).every((r) => typeof r.q === 'number' && r.q >= 0.76)).toBe(true);
    expect(dropped.filter((r) => r.drop_reason === 'low_letters')).toHaveLength(report.dropped.low_letters!);
    expect(report.checks).toEqual([
      {name: 'letters', min: 0.76, max: undefined, field: 'q'},
      {name: 'length', min: undefined, max: 2000, field: undefined},
    ]);
  });
});
