// Kept apart from load-run.ts so that the CLI's base command can set the sink without loading
// TensorFlow.js (data commands never load it).
let sink: (message: string) => void = () => {};

/**
 * Where loadRun tells of a folder it settled when its caller passes no onInfo: run folders are
 * loaded deep inside many workflows, and a changed folder must not go unsaid in the CLI (every
 * command sets stderr here), while the library itself never prints.
 */
export function setRunNotices(onInfo: (message: string) => void): void {
  sink = onInfo;
}

/** Tells the sink set by setRunNotices (by default nobody). */
export function runNotice(message: string): void {
  sink(message);
}
