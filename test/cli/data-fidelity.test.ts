import {mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it, vi} from 'vitest';
import {runCli} from '../helpers/cli.js';

// Issue 17 §5, through the CLI: what goes in comes out — label and id types, unchanged rows byte
// for byte, good CSV rows after a stray quote — and bytes that are not UTF-8 are counted, not hidden.
// Several CLI starts per test: a few seconds each on a busy machine.
vi.setConfig({testTimeout: 180_000});
const dir = mkdtempSync(join(tmpdir(), 'dsk-fidelity-'));
const jsonl = (text: string) =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** Keys with a capital letter, outside the maps keyed by the data (labels, scripts, ops). */
const camelKeys = (value: unknown, path = ''): string[] =>
  value === null || typeof value !== 'object'
    ? []
    : Object.entries(value).flatMap(([key, v]) =>
        ['by_op', 'letters', 'rows', 'counts', 'shares', 'labels', 'weights', 'files'].includes(key)
          ? []
          : [...(/[A-Z]/.test(key) ? [`${path}.${key}`] : []), ...camelKeys(v, `${path}.${key}`)],
      );

// Key order, spacing and number formatting of a hand-written file; labels of every JSON type.
const LINES = [
  '{"text": "the first review is short and sweet", "id": 1, "label": 1}',
  '{"id":"b","text":"a second review of a long film","label":true}',
  '{"id": "c", "text": "the third one has no class at all", "label": null}',
  '{"id": "d", "text": "fourth text with a string label", "label": "1", "score": 1.50}',
  '{"id": "e", "text": "fifth and final text here", "label": 0}',
];
const labeled = LINES.filter((l) => !l.includes('null'));
const input = join(dir, 'typed.jsonl');
writeFileSync(input, `${LINES.join('\n')}\n`);
const labeledInput = join(dir, 'labeled.jsonl');
writeFileSync(labeledInput, `${labeled.join('\n')}\n`);
const byId = new Map(LINES.map((l) => [String(JSON.parse(l).id), JSON.parse(l) as Record<string, unknown>]));

/** Every output row's label is its source row's, with its JSON type (null included). */
function expectTypedLabels(rows: Record<string, unknown>[], what: string): void {
  expect(rows.length, what).toBeGreaterThan(0);
  for (const row of rows) {
    const source = byId.get(String(row.source_id ?? row.id))!;
    expect(source, `${what}: ${JSON.stringify(row)}`).toBeDefined();
    expect('label' in row, what).toBe(true);
    expect(row.label, `${what}: ${JSON.stringify(row)}`).toStrictEqual(source.label);
  }
}

describe('labels keep their JSON type through every data step; unchanged rows leave as they came', () => {
  it('clean and split copy unchanged rows byte for byte', () => {
    const clean = runCli(['clean', '--in', input, '--filters', 'none', '--dedup', 'none']);
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout).toBe(`${LINES.join('\n')}\n`);
    const outDir = join(dir, 'splits');
    const split = runCli(['split', '--in', input, '--out-dir', outDir, '--ratios', '0.5,0.5']);
    expect(split.code, split.stderr).toBe(0);
    const written = readdirSync(outDir).flatMap((f) => readFileSync(join(outDir, f), 'utf8').split('\n'));
    expect(written.filter(Boolean).sort()).toEqual([...LINES].sort());
  });

  it('augment and balance keep 1, true, 0, "1" and null as they were, in copies too', () => {
    const augment = runCli(['augment', '--in', input, '--num-aug', '1', '--ops', 'rs,rd']);
    expect(augment.code, augment.stderr).toBe(0);
    expectTypedLabels(jsonl(augment.stdout), 'augment');
    for (const strategy of ['oversample', 'undersample', 'weight']) {
      const balance = runCli(['balance', '--in', labeledInput, '--strategy', strategy]);
      expect(balance.code, balance.stderr).toBe(0);
      expectTypedLabels(jsonl(balance.stdout), `balance ${strategy}`);
    }
    // The id keeps its type where the row keeps its id.
    expect(jsonl(augment.stdout)[0]).toMatchObject({id: 1, label: 1});
  });
});

describe('a CSV with an unbalanced quote under --on-error skip', () => {
  it('keeps every good row and names the one broken line', () => {
    const csv = join(dir, 'quote.csv');
    writeFileSync(
      csv,
      'id,text,label\n1,good one,pos\n2,"unbalanced quote,neg\n3,good two,pos\n4,good three,neg\n5,"fine, quoted",pos\n6,last,neg\n',
    );
    const r = runCli(['clean', '--in', csv, '--on-error', 'skip', '--filters', 'none', '--dedup', 'none']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').slice(1)).toEqual([
      '1,good one,pos',
      '3,good two,pos',
      '4,good three,neg',
      '5,"fine, quoted",pos',
      '6,last,neg',
    ]);
    expect(r.stderr).toMatch(/skipped: .*quote\.csv line 3: /);
    expect(r.stderr).toMatch(/skipped 1 malformed rows/);
  });
});

describe('bytes that are not UTF-8 are counted and reported by every data step', () => {
  const bad = join(dir, 'latin1.jsonl');
  writeFileSync(
    bad,
    Buffer.concat([
      Buffer.from('{"id":"a","text":"caf'),
      Buffer.from([0xe9]),
      Buffer.from(
        ' au lait, a fine drink","label":"x"}\n{"id":"b","text":"plain text is fine","label":"y"}\n',
      ),
      Buffer.from('{"id":"c","text":"bad '),
      Buffer.from([0xff, 0xfe]),
      Buffer.from(' bytes in this row","label":"x"}\n'),
    ]),
  );

  it('clean --filters none, augment, balance, split and stats: 2 lines, the first named', () => {
    const runs: [string, string[]][] = [
      ['clean', ['clean', '--filters', 'none', '--out', join(dir, 'c.jsonl')]],
      ['augment', ['augment', '--out', join(dir, 'a.jsonl')]],
      ['balance', ['balance', '--out', join(dir, 'b.jsonl')]],
      ['split', ['split', '--out-dir', join(dir, 'utf8-splits')]],
      ['stats', ['stats']],
    ];
    for (const [name, args] of runs) {
      const json = runCli([...args, '--in', bad, '--json']);
      expect(json.code, `${name}: ${json.stderr}`).toBe(0);
      const report = JSON.parse(json.stdout);
      const issues = report.io ?? report;
      // --json keys are snake_case, as the model commands' (docs/json.md).
      expect(camelKeys(report), name).toEqual([]);
      expect(issues, name).toMatchObject({invalid_utf8_lines: 2, first_invalid_utf8: `${bad} line 1`});
      if (name === 'clean') {
        // The summary says it too (augment, balance and split print the same line).
        const human = runCli([...args, '--in', bad]);
        expect(`${human.stdout}${human.stderr}`, name).toMatch(/2 lines (had|with) bytes that are not UTF-8/);
      }
    }
  });
});
