/**
 * The run folder: its files (config.json, model/, tokenizer.json, labels.json, metrics.jsonl,
 * checkpoints/, adapter/), writing them safely (prepare, resume checks, atomic writes) and loading one
 * (load-run.ts: a plain run, or a LoRA run as base + adapter, checked by check-run.ts), and the lock a
 * writer holds (run-lock.ts). Which kind of model a run holds is decided
 * in src/models/registry.ts, which opens a loaded run with its kind.
 */
export * from './adapter-run.js';
export * from './check-run.js';
export * from './load-run.js';
export * from './replaced-run.js';
export * from './run-folder.js';
export * from './run-lock.js';
export * from './run-notices.js';
