import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {cleanDataset} from '../../../src/data/clean.js';
import {cleanWithWorkers} from '../../../src/data/stages/clean-workers.js';
import {writePlan} from '../../../src/data/stages/stage-plan.js';
import {runStage, STAGES} from '../../../src/data/stages/stages.js';
import {makeJunk} from '../eval-junk.js';
import {nearCopy, seeded} from '../near-copies.js';

// Issue 22: the staged pipeline keeps exactly the rows single-process clean keeps, with the same
// drop reasons (and the same kept row named in drop_detail), for 1, 4 and 16 shards.
const dir = mkdtempSync(join(tmpdir(), 'dsk-sharded-'));
const corpus = join(dir, 'corpus.jsonl');
const lines = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean);
type Row = {id: string; drop_reason?: string; drop_detail?: string};
let single: {kept: string[]; rejected: string[]; output: string};

/** A corpus with injected copies: exact (case and spacing changed), near (1-5% word edits, also of copies), junk. */
function buildCorpus(): void {
  const rand = seeded(22);
  const reviews = lines('fixtures/imdb/reviews.jsonl')
    .slice(0, 500)
    .map((l) => JSON.parse(l) as {id: string; text: string});
  const texts = reviews.map((r) => r.text.replace(/<br \/>/g, ' ').slice(0, 80 + Math.floor(rand() * 600)));
  const rows: {id: string; text: string}[] = texts.map((text, i) => ({id: `orig-${i}`, text}));
  const pick = () => rows[Math.floor(rand() * rows.length)]!;
  for (let i = 0; i < 80; i++) {
    const at = Math.floor(rand() * rows.length);
    const source = pick();
    const copy =
      i % 2 === 0
        ? {id: `exact-${i}`, text: `  ${source.text.toUpperCase()} `}
        : {id: `near-${i}`, text: nearCopy(source.text, 0.01 + 0.04 * rand(), rand)};
    rows.splice(at, 0, copy);
  }
  const ctx = {lines: texts, words: texts.join(' ').split(' '), docs: texts};
  for (const [k, j] of makeJunk('validate', 2, ctx, 5).entries()) {
    rows.splice(Math.floor(rand() * rows.length), 0, {id: `junk-${k}`, text: j.text});
  }
  writeFileSync(corpus, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
}

const ids = (path: string) => lines(path).map((l) => (JSON.parse(l) as Row).id);
const reasons = (paths: string[]) =>
  paths
    .flatMap(lines)
    .map((l) => JSON.parse(l) as Row)
    .map((r) => `${r.id} ${r.drop_reason} ${r.drop_detail}`)
    .sort();

async function runAll(work: string, shards: number): Promise<void> {
  await writePlan({input: corpus, work, shards});
  for (const stage of STAGES) {
    for (let part = 0; part < (stage === 'resolve' ? 1 : shards); part++) await runStage(stage, work, part);
  }
}

beforeAll(async () => {
  buildCorpus();
  const output = join(dir, 'single.jsonl');
  await cleanDataset({input: corpus, output, rejected: join(dir, 'single-rejected.jsonl')});
  single = {kept: ids(output), rejected: reasons([join(dir, 'single-rejected.jsonl')]), output};
});
afterAll(() => rmSync(dir, {recursive: true, force: true}));

describe('sharded clean', () => {
  it('the corpus exercises every path: exact and near copies and junk are dropped', () => {
    const count = (reason: string) => single.rejected.filter((r) => r.includes(` ${reason} `)).length;
    expect(count('exact_duplicate')).toBeGreaterThanOrEqual(35);
    expect(count('near_duplicate')).toBeGreaterThanOrEqual(30);
    expect(single.rejected.length - count('exact_duplicate') - count('near_duplicate')).toBeGreaterThan(10);
  });

  for (const shards of [1, 4, 16]) {
    it(`${shards} shards keep the same rows for the same reasons`, async () => {
      const work = join(dir, `work-${shards}`);
      await runAll(work, shards);
      const out = join(work, 'out');
      const kept = readdirSync(out)
        .filter((f) => /^kept-\d+\.jsonl$/.test(f))
        .flatMap((f) => ids(join(out, f)));
      expect(kept.sort()).toEqual([...single.kept].sort());
      const rejected = readdirSync(out)
        .filter((f) => f.startsWith('rejected-'))
        .map((f) => join(out, f));
      expect(reasons(rejected)).toEqual(single.rejected);
    });
  }

  it('a stage re-run after a worker died mid-write gives the same bytes; a finished stage is not redone', async () => {
    const work = join(dir, 'work-4');
    const edges = join(work, 'verify', 'edges-2.bin');
    const before = readFileSync(edges);
    // The worker died before its rename: no output, a temporary file left behind.
    rmSync(edges);
    writeFileSync(join(work, 'verify', '.edges-2.bin.999-dead.tmp'), before.subarray(0, 7));
    rmSync(join(work, 'near.bin'));
    expect((await runStage('verify', work, 2)).ran).toBe(true);
    expect(readFileSync(edges).equals(before)).toBe(true);
    expect((await runStage('resolve', work, 0)).ran).toBe(true);
    expect((await runStage('verify', work, 1)).ran).toBe(false);
    const again = await runStage('sign', work, 3, {force: true});
    expect(again.ran).toBe(true);
    for (let part = 0; part < 4; part++) await runStage('write', work, part, {force: true});
    const kept = [0, 1, 2, 3].flatMap((i) => ids(join(work, 'out', `kept-${i}.jsonl`)));
    expect(kept.sort()).toEqual([...single.kept].sort());
  });

  it('clean --workers merges the shards back into the input order: the same file as one process', async () => {
    const output = join(dir, 'workers.jsonl');
    const report = await cleanWithWorkers({
      input: corpus,
      output,
      workers: 4,
      work: join(dir, 'work-merge'),
      spawnStage: (name, work, part) => runStage(name, work, part),
    });
    expect(readFileSync(output, 'utf8')).toBe(readFileSync(single.output, 'utf8'));
    expect(report.rowsOut).toBe(single.kept.length);
    // Each partition holds a share of the dedup state.
    const exact = report.stages.filter((s) => s.stage === 'exact').map((s) => s.stateBytes);
    expect(exact).toHaveLength(4);
    expect(existsSync(join(dir, 'work-merge', 'plan.json'))).toBe(true);
  });
});
