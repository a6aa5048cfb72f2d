// Shared output of the benchmarks: a table on stdout, or with --json one JSON object per row.
export type Row = Record<string, string | number | boolean | null>;

export const wantsJson = process.argv.includes('--json');

export function printRows(rows: Row[]): void {
  if (wantsJson) {
    for (const row of rows) process.stdout.write(`${JSON.stringify(row)}\n`);
    return;
  }
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: Row[string] | undefined) =>
    v === undefined || v === null ? '' : typeof v === 'number' ? String(Number(v.toFixed(2))) : String(v);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(width[i]!)).join('  ');
  process.stdout.write(`${line(cols)}\n${line(width.map((w) => '-'.repeat(w)))}\n`);
  for (const r of rows) process.stdout.write(`${line(cols.map((c) => cell(r[c])))}\n`);
}

/** A bar from an issue: printed under the table (stderr with --json) so a run shows pass or miss. */
export function printBar(name: string, ok: boolean, detail: string): void {
  const text = `${ok ? 'PASS' : 'MISS'}  ${name}: ${detail}\n`;
  (wantsJson ? process.stderr : process.stdout).write(text);
}

export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}
