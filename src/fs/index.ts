/**
 * How the kit writes to the file system, for every command that writes: outputs (files, and whole
 * folders such as an exported model) go to a temporary name and are renamed into place (a FIFO,
 * device or stdout is streamed to instead); the temporary
 * files and folders of unfinished outputs are removed on errors, on SIGINT/SIGTERM (exit 130/143
 * with one line saying what was and was not written) and at exit; OS write errors (full disk,
 * permissions, read-only) become an `OutputError` naming the path (exit 1); and `pathRelation`
 * tells whether an output is, contains or lies inside an input, so nothing overwrites what it reads.
 * Reading a run or export folder goes through `contained-file.ts`: no file outside it, no special file.
 */
export * from './contained-file.js';
export * from './killed-writers.js';
export * from './output-dir.js';
export * from './output-error.js';
export * from './output-file.js';
export * from './output-folder.js';
export * from './output-target.js';
export * from './path-relation.js';
export {
  discardUnfinished,
  type OutputState,
  type PendingOutput,
  settle,
  trackOutput,
} from './pending-outputs.js';
export * from './stdio.js';
