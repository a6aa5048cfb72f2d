import {type ChildProcess, execFileSync, spawn, spawnSync} from 'node:child_process';
import {
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it, vi} from 'vitest';
import {ROOT, runCli} from '../helpers/cli.js';

// Issue 17, the data side: what the data commands promise about their outputs, temporary files,
// signals, write errors and the terminal. Each case failed before the shared src/fs mechanism.
// Several CLI starts per test: a few seconds each on a busy machine.
vi.setConfig({testTimeout: 180_000});
const dir = mkdtempSync(join(tmpdir(), 'dsk-safety-'));
const reviews = 'fixtures/imdb/reviews.jsonl';
// The first 200 reviews: enough rows to write, few enough to keep each run short.
const few = join(dir, 'few.jsonl');
writeFileSync(few, `${readFileSync(reviews, 'utf8').split('\n').slice(0, 200).join('\n')}\n`);
const BIN = `${ROOT}/bin/run.js`;
const temps = (folder: string) => readdirSync(folder).filter((f) => f.endsWith('.tmp'));
/** A JS stack trace in an error output. */
const STACK = /^\s+at /m;
/** oclif wraps a long error message over lines that start with ` ›   `. */
const unwrap = (text: string) => text.replace(/\s*\n ›\s+/g, ' ');

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function start(args: string[], cwd = ROOT): {child: ChildProcess; done: Promise<Finished>} {
  const child = spawn(process.execPath, [BIN, ...args], {cwd, stdio: ['pipe', 'pipe', 'pipe']});
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => {
    stdout += d;
  });
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const done = new Promise<Finished>((ok) =>
    child.on('close', (code, signal) => ok({code, signal, stdout, stderr})),
  );
  return {child, done};
}

async function until(check: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('data commands: outputs that are not regular files', () => {
  it('--out naming a character device streams to it instead of replacing it', () => {
    // A link to /dev/null, so the case needs no root and cannot damage the real device.
    for (const command of ['clean', 'augment', 'balance']) {
      const link = join(dir, `${command}-null`);
      symlinkSync('/dev/null', link);
      const r = runCli([
        command,
        '--in',
        reviews,
        '--out',
        link,
        ...(command === 'augment' ? ['--num-aug', '1'] : []),
      ]);
      expect(r.code, `${command}: ${r.stderr}`).toBe(0);
      expect(lstatSync(link).isSymbolicLink(), command).toBe(true);
      expect(temps(dir)).toEqual([]);
    }
  });

  it('--out naming a FIFO streams the rows into it', async () => {
    const fifo = join(dir, 'rows.fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = spawn('cat', [fifo], {stdio: ['ignore', 'pipe', 'ignore']});
    let got = '';
    reader.stdout.on('data', (d) => {
      got += d;
    });
    const readerDone = new Promise((ok) => reader.on('close', ok));
    const kill = setTimeout(() => reader.kill(), 30_000);
    const r = await start(['clean', '--in', reviews, '--out', fifo]).done;
    await readerDone;
    clearTimeout(kill);
    expect(r.code, r.stderr).toBe(0);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(got.trim().split('\n')).toHaveLength(1968);
  });
});

describe('data commands: signals', () => {
  // Rows are on stdin, which stays open, so the command is mid-run with its temporary files open.
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it(`${signal} removes the temporary files and exits ${code} with one line`, async () => {
      for (const command of ['clean', 'augment']) {
        const out = mkdtempSync(join(dir, `${command}-${signal}-`));
        const run = start([command, '--out', join(out, 'kept.jsonl'), '--format', 'jsonl']);
        run.child.stdin!.write(`${readFileSync(reviews, 'utf8').split('\n').slice(0, 50).join('\n')}\n`);
        await until(() => temps(out).length > 0);
        run.child.kill(signal);
        const r = await run.done;
        expect(r.code, `${command}: ${r.stderr}`).toBe(code);
        expect(r.stderr.trim().split('\n')).toEqual([
          expect.stringMatching(new RegExp(`^interrupted by ${signal}: not written: .*kept\\.jsonl`)),
        ]);
        expect(readdirSync(out)).toEqual([]);
      }
    });
  }

  it('an interrupted split leaves neither temporary files nor the --out-dir it made', async () => {
    const outDir = join(dir, 'split-int', 'nested');
    const run = start(['split', '--out-dir', outDir]);
    run.child.stdin!.write('{"text":"one"}\n');
    await until(() => existsSync(outDir) && temps(outDir).length === 3);
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/not written: .*train\.jsonl, .*val\.jsonl, .*test\.jsonl/);
    expect(existsSync(join(dir, 'split-int'))).toBe(false);
  });
});

describe('data commands: write errors', () => {
  it('stdout on a full disk (/dev/full): exit 1, one line naming stdout, no stack', () => {
    const full = openSync('/dev/full', 'w');
    try {
      for (const args of [
        ['stats', '--in', reviews],
        ['stats', '--in', reviews, '--json'],
        ['clean', '--in', reviews],
      ]) {
        const r = spawnSync(process.execPath, [BIN, ...args], {
          cwd: ROOT,
          stdio: ['ignore', full, 'pipe'],
          encoding: 'utf8',
        });
        expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(1);
        expect(r.stderr).toMatch(/cannot write stdout: no space left on the device \(ENOSPC\)/);
        expect(r.stderr).not.toMatch(STACK);
        expect(
          r.stderr
            .trim()
            .split('\n')
            .filter((l) => /Error|ENOSPC/.test(l)),
        ).toHaveLength(1);
      }
    } finally {
      closeSync(full);
    }
  });

  it('a file that outgrows the disk (here: the file size limit) names the file; no temporary file stays', () => {
    const out = mkdtempSync(join(dir, 'efbig-'));
    // ulimit -f in 1 KiB blocks; SIGXFSZ ignored, so the write fails with EFBIG as on a full disk.
    const r = spawnSync(
      'sh',
      [
        '-c',
        `ulimit -f 256; trap '' XFSZ; exec "${process.execPath}" "${BIN}" clean --in ${reviews} --out "${out}/kept.jsonl" --dedup exact`,
      ],
      {cwd: ROOT, encoding: 'utf8'},
    );
    expect(r.status, r.stderr).toBe(1);
    expect(unwrap(r.stderr)).toMatch(/cannot write .*kept\.jsonl: file too large.*\(EFBIG\)/);
    expect(r.stderr).not.toMatch(STACK);
    expect(readdirSync(out)).toEqual([]);
    // With near dedup its spool of kept texts (a temporary file) reaches the limit too: with the
    // output on a device (no size limit), it is the file that fails.
    const near = spawnSync(
      'sh',
      [
        '-c',
        `ulimit -f 256; trap '' XFSZ; exec "${process.execPath}" "${BIN}" clean --in ${reviews} --out /dev/null`,
      ],
      {cwd: ROOT, encoding: 'utf8'},
    );
    expect(near.status, near.stderr).toBe(1);
    expect(unwrap(near.stderr)).toMatch(
      /cannot write near dedup's spool of kept texts in .*: file too large/,
    );
    expect(near.stderr).not.toMatch(STACK);
    expect(readdirSync(out)).toEqual([]);
  });

  it('split --out-dir or --out in an unwritable place: exit 1 naming the path, no stack', () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const split = runCli(['split', '--in', few, '--out-dir', join(file, 'splits')]);
    expect(split.code).toBe(1);
    expect(split.stderr).toMatch(/a-file\/splits/);
    expect(split.stderr).not.toMatch(STACK);
    const clean = runCli(['clean', '--in', few, '--out', join(file, 'out.jsonl')]);
    expect(clean.code).toBe(1);
    expect(clean.stderr).toMatch(/a-file\/out\.jsonl/);
  });

  it('a failed split leaves no empty --out-dir', () => {
    const input = join(dir, 'broken.jsonl');
    writeFileSync(input, '{"text":"fine"}\n{"text": "cut\n');
    const outDir = join(dir, 'never');
    const r = runCli(['split', '--in', input, '--out-dir', outDir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/broken\.jsonl line 2/);
    expect(existsSync(outDir)).toBe(false);
  });
});

describe('data commands: the terminal', () => {
  it('quoted malformed input has its control characters escaped', () => {
    const hostile = '\u001b]0;owned\u0007\u001b[2J\u001b[31m';
    const jsonl = join(dir, 'hostile.jsonl');
    writeFileSync(jsonl, `${hostile}\n`);
    const csv = join(dir, 'hostile.csv');
    writeFileSync(csv, `body${hostile},label\nx,y\n`);
    mkdirSync(join(dir, 'term'), {recursive: true});
    for (const input of [jsonl, csv]) {
      for (const command of ['clean', 'stats']) {
        const r = runCli([command, '--in', input]);
        expect(r.code, r.stderr).toBe(1);
        // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for them is the test.
        expect(r.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
        expect(r.stderr).toMatch(/\\x1b/);
      }
    }
  });
});
