import {existsSync, renameSync, rmdirSync, rmSync, writeSync} from 'node:fs';

/**
 * The outputs this process is writing, so that whatever ends it — a signal, a write error, a crash —
 * leaves no temporary file behind and the user learns which outputs were written and which were not.
 *
 * While at least one output is unfinished, SIGINT, SIGTERM and SIGHUP remove the temporary files and
 * the empty folders the kit made, print one line (`interrupted by SIGINT: wrote a.jsonl; not written:
 * b.jsonl`) and exit 128 + the signal number (130, 143, 129). A command that handles a signal itself
 * (training stops at the next step and saves a checkpoint) keeps it: with another listener for the
 * signal, this one stands back. An 'exit' hook removes what is left in every other case.
 */

/** What becomes of an output: its temporary file is being written, renamed into place, done, or given up. */
export type OutputState = 'writing' | 'committing' | 'written' | 'abandoned';

export interface PendingOutput {
  /** The path the user named (or `stdout`). */
  readonly path: string;
  /** The temporary file (or folder) that becomes `path` on commit; none when written in place. */
  readonly temp?: string;
  /** A folder the kit created to hold outputs: removed at the end if it is still empty. */
  readonly createdDir?: boolean;
  /** Working space, not an output (a copy of stdin): removed with the rest, never mentioned. */
  readonly scratch?: boolean;
  /** Where the old `path` was moved while the new one is renamed in: moved back if that never happens. */
  backup?: string;
  state: OutputState;
}

const outputs: PendingOutput[] = [];
const SIGNALS = {SIGINT: 2, SIGTERM: 15, SIGHUP: 1} as const;
type Signal = keyof typeof SIGNALS;
let installed = false;

/** Registers an output; call `settle` on it when it is written or given up. */
export function trackOutput(output: Omit<PendingOutput, 'state'>): PendingOutput {
  const entry: PendingOutput = {...output, state: 'writing'};
  outputs.push(entry);
  if (!installed) install();
  return entry;
}

/** Marks an output written or abandoned; once none is unfinished, the signal handlers go. */
export function settle(entry: PendingOutput, state: 'written' | 'abandoned'): void {
  entry.state = state;
  if (outputs.every((o) => o.state === 'written' || o.state === 'abandoned')) {
    outputs.length = 0;
    uninstall();
  }
}

/**
 * Removes every unfinished output's temporary file and every empty folder the kit made (synchronous:
 * it runs in signal and exit handlers). Returns what was and was not written, for the user; `except`
 * leaves out the output the message is already about.
 */
export function discardUnfinished(except?: string): string {
  const written: string[] = [];
  const notWritten: string[] = [];
  const partial: string[] = [];
  for (const o of outputs) {
    if (o.createdDir || o.path === except) continue;
    if (o.scratch) {
      if (o.temp && o.state !== 'abandoned') rmSync(o.temp, {force: true, recursive: true});
      o.state = 'abandoned';
      continue;
    }
    // An output caught mid-rename is written if its temporary file is gone.
    const done = o.state === 'written' || (o.state === 'committing' && o.temp && !existsSync(o.temp));
    if (done) written.push(o.path);
    else if (o.temp) {
      rmSync(o.temp, {force: true, recursive: true});
      if (o.backup && existsSync(o.backup) && !existsSync(o.path)) renameSync(o.backup, o.path);
      notWritten.push(o.path);
    } else if (o.state !== 'abandoned') partial.push(o.path);
    o.state = done ? 'written' : 'abandoned';
  }
  // Deepest first, so a folder made inside another made one goes before it.
  for (const o of [...outputs].reverse()) {
    if (!o.createdDir || o.state !== 'writing') continue;
    try {
      rmdirSync(o.path);
    } catch {
      // Not empty (an output was written into it) or already gone: leave it.
    }
    o.state = 'abandoned';
  }
  const parts = [
    written.length ? `wrote ${written.join(', ')}` : '',
    notWritten.length ? `not written: ${notWritten.join(', ')} (temporary files removed)` : '',
    partial.length ? `partly written: ${partial.join(', ')}` : '',
  ].filter(Boolean);
  return parts.length ? parts.join('; ') : 'no output written';
}

function onSignal(signal: Signal): void {
  // Another listener (a command that stops gracefully) owns this signal.
  if (process.listenerCount(signal) > 1) return;
  const outcome = discardUnfinished();
  writeSync(2, `interrupted by ${signal}: ${outcome}\n`);
  process.exit(128 + SIGNALS[signal]);
}

const handlers = Object.fromEntries(
  Object.keys(SIGNALS).map((s) => [s, () => onSignal(s as Signal)]),
) as Record<Signal, () => void>;

const onExit = () => {
  if (outputs.length > 0) discardUnfinished();
};

function install(): void {
  installed = true;
  for (const s of Object.keys(handlers) as Signal[]) process.on(s, handlers[s]);
  process.on('exit', onExit);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  for (const s of Object.keys(handlers) as Signal[]) process.off(s, handlers[s]);
  process.off('exit', onExit);
}
