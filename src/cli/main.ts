import {Config, Errors, flush, run} from '@oclif/core';
import {EXIT_CODES, errorReport, formatErrorLine, wantsJson} from './error-report.js';

async function write(stream: NodeJS.WriteStream, text: string): Promise<void> {
  await new Promise<void>((resolve) => stream.write(text, () => resolve()));
}

/**
 * Runs the CLI. Every failure is reported once, the same way: one line on stderr (`Error: … — hint`),
 * or under `--json` one object `{"error": {code, message, hint}}` on stdout; an internal error also
 * prints its stack on stderr. Exit codes: 1 usage or input error, 2 internal error.
 */
export async function main(bin: string, options: {development?: boolean} = {}): Promise<void> {
  if (options.development) process.env.NODE_ENV = 'development';
  const argv = process.argv.slice(2);
  let config: Config | undefined;
  try {
    config = await Config.load(bin);
    await run(argv, config);
    await flush();
  } catch (error) {
    if (error instanceof Errors.ExitError) {
      process.exitCode = error.oclif.exit ?? 0;
      return;
    }
    const command = argv[0] && config?.findCommand(argv[0]) ? argv[0] : undefined;
    const report = errorReport(error, {bin: config?.bin ?? 'deepseek-kit', command});
    if (wantsJson(argv)) await write(process.stdout, `${JSON.stringify({error: report})}\n`);
    else await write(process.stderr, `${formatErrorLine(report)}\n`);
    if (report.code === 'internal' && error instanceof Error && error.stack) {
      await write(process.stderr, `${error.stack}\n`);
    }
    process.exit(EXIT_CODES[report.code]);
  }
}
