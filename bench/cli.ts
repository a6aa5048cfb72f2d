// npm run bench:cli [-- --repeats N] [-- --json]: wall time of whole CLI runs (process start to
// exit) of the built package, median of N runs each. Bar (issue 14): --version and --help ≤ 0.5 s.
// The last rows run the same commands without oclif.manifest.json (a scratch copy of the package),
// which is what start-up cost before the build wrote one.
import {spawnSync} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile} from 'node:fs/promises';
import {loadavg, tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {manifestStaleness} from '../src/cli/manifest.js';
import {printBar, printRows, type Row, wantsJson} from './report.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const at = process.argv.indexOf('--repeats');
const repeats = at === -1 ? 7 : Number(process.argv[at + 1]);
const BAR_S = 0.5;
if (!(Number.isInteger(repeats) && repeats >= 1)) {
  process.stderr.write('--repeats takes a whole number ≥ 1\n');
  process.exit(1);
}

const stale = await manifestStaleness(ROOT);
if (stale) {
  process.stderr.write(`bench:cli measures the built package, but ${stale} — run npm run build first\n`);
  process.exit(1);
}

/**
 * CPU seconds (user + system) used by this process's finished children, from /proc (Linux; clock
 * ticks of 1/100 s). Less sensitive than wall time to other work on a shared machine.
 */
function childCpuSeconds(): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // from field 3 (state) on
    return (Number(fields[13]) + Number(fields[14])) / 100; // cutime, cstime
  } catch {
    return undefined;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** One row: wall seconds (median, min, max) and median CPU seconds of `repeats` runs, after a warm-up. */
function time(bin: string, args: string[]): Row {
  const once = () => {
    const cpu0 = childCpuSeconds();
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [bin, ...args], {cwd: ROOT, encoding: 'utf8'});
    const wall = (performance.now() - t0) / 1000;
    const cpu1 = childCpuSeconds();
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    return {wall, cpu: cpu0 === undefined || cpu1 === undefined ? null : cpu1 - cpu0};
  };
  once();
  const runs = Array.from({length: repeats}, once);
  const walls = runs.map((r) => r.wall);
  const cpus = runs.map((r) => r.cpu).filter((c) => c !== null);
  return {
    median_s: median(walls),
    min_s: Math.min(...walls),
    max_s: Math.max(...walls),
    cpu_s: cpus.length === runs.length ? median(cpus) : null,
  };
}

/** The package with its manifest left out: bin/ copied, the rest linked. */
async function withoutManifest(): Promise<{bin: string; dir: string}> {
  const dir = await mkdtemp(join(tmpdir(), 'dsk-bench-cli-'));
  await mkdir(join(dir, 'bin'));
  await copyFile(join(ROOT, 'bin/run.js'), join(dir, 'bin/run.js'));
  await writeFile(join(dir, 'package.json'), await readFile(join(ROOT, 'package.json')));
  for (const name of ['dist', 'node_modules', 'fixtures']) await symlink(join(ROOT, name), join(dir, name));
  return {bin: join(dir, 'bin/run.js'), dir};
}

const cases: [string, string[], boolean][] = [
  ['--version', ['--version'], true],
  ['--help', ['--help'], true],
  ['clean --help', ['clean', '--help'], false],
  ['train --help', ['train', '--help'], false],
  ['stats (1,000 rows)', ['stats', '--in', 'fixtures/imdb/test.jsonl'], false],
];
const rows: Row[] = [];
const bars: [string, number][] = [];
const load = loadavg()[0]!;
for (const [name, args, barred] of cases) {
  const t = time(join(ROOT, 'bin/run.js'), args);
  rows.push({command: name, manifest: true, ...t, bar_s: barred ? BAR_S : null});
  if (barred) bars.push([name, t.median_s as number]);
}
const bare = await withoutManifest();
try {
  for (const [name, args] of cases.slice(0, 2)) {
    rows.push({command: name, manifest: false, ...time(bare.bin, args), bar_s: null});
  }
} finally {
  await rm(bare.dir, {recursive: true, force: true});
}
printRows(rows);
(wantsJson ? process.stderr : process.stdout).write(
  `${repeats} runs each; load average ${load.toFixed(2)} at start, ${loadavg()[0]!.toFixed(2)} at end\n`,
);
for (const [name, median] of bars) {
  printBar(`${name} ≤ ${BAR_S} s`, median <= BAR_S, `median ${median.toFixed(2)} s`);
}
