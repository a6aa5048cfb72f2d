import {spawnSync} from 'node:child_process';
import {fileURLToPath} from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (bin/run.js) as a user would, with optional stdin and extra env. */
export function runCli(
  args: string[],
  options: {input?: string; env?: NodeJS.ProcessEnv; cwd?: string} = {},
): CliResult {
  const r = spawnSync(process.execPath, [`${ROOT}/bin/run.js`, ...args], {
    cwd: options.cwd ?? ROOT,
    input: options.input,
    encoding: 'utf8',
    env: {...process.env, ...options.env},
    maxBuffer: 64 * 1024 * 1024,
  });
  return {code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr};
}
