import {existsSync} from 'node:fs';
import {mkdtemp, readFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {runCli} from '../helpers/cli.js';

describe('deepseek-kit balance', () => {
  it('weights rows read from stdin, and says it copied the stream', async () => {
    const input = await readFile('fixtures/reuters/news.jsonl', 'utf8');
    const r = runCli(['balance', '--strategy', 'weight', '--smoothing', '0'], {input});
    expect(r.code).toBe(0);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows).toHaveLength(1000);
    const weightOf = (label: string) => rows.find((x) => x.label === label).weight;
    expect(weightOf('acq')).toBeCloseTo(1000 / (6 * 250), 5);
    expect(weightOf('trade')).toBeCloseTo(1000 / (6 * 125), 5);
    expect(r.stderr).toMatch(/before .* KL 0\.059 nats/);
    expect(r.stderr).toMatch(/after .* KL 0\.000 nats \(by weight\)/);
    expect(r.stderr).toMatch(/temporary file/);
  });

  it('--json reports the distributions; a row without a label fails and writes nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'balance-cli-'));
    const out = join(dir, 'out.jsonl');
    const r = runCli([
      'balance',
      '--in',
      'fixtures/reuters/news.jsonl',
      '--out',
      out,
      '--strategy',
      'undersample',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.after.counts).toEqual({
      acq: 125,
      crude: 125,
      earn: 125,
      interest: 125,
      'money-fx': 125,
      trade: 125,
    });
    expect(report.before.kl_from_uniform).toBeCloseTo(0.0589, 3);
    const bad = join(dir, 'bad.jsonl');
    const failed = runCli(['balance', '--out', bad], {input: '{"text":"a","label":"x"}\n{"text":"b"}\n'});
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/stdin:2 has no label[\s\S]*--label-field/);
    expect(existsSync(bad)).toBe(false);
  });
});
