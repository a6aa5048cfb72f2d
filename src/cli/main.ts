import {dirname} from 'node:path';
import {fileURLToPath} from 'node:url';
import {Config, Errors, flush, Plugin, run} from '@oclif/core';
import {InterruptedError} from '../errors.js';
import {guardStdout} from '../fs/stdio.js';
import {EXIT_CODES, errorReport, formatErrorLine, wantsJson} from './error-report.js';
import {manifestStaleness} from './manifest.js';

/**
 * The CLI's configuration. With a current `oclif.manifest.json` oclif reads every command's flags and
 * help from it and loads only the command that runs. Without one, or a stale one (a command added
 * since the build), or in development, where the sources are the truth, every command is read from
 * its module instead: slower, but no command is hidden.
 */
async function loadConfig(bin: string, development: boolean): Promise<Config> {
  const root = dirname(dirname(fileURLToPath(bin)));
  const stale = development ? 'development' : await manifestStaleness(root);
  if (stale === undefined) return Config.load(bin);
  if (!development) {
    process.stderr.write(`warning: ${stale}; reading every command instead (slower) — run npm run build\n`);
  }
  const plugin = new Plugin({root, isRoot: true, ignoreManifest: true});
  await plugin.load();
  const config = new Config({root, plugins: new Map([[plugin.name, plugin]])});
  await config.load();
  // The root plugin was given, so oclif skipped the plugins it lists (help, autocomplete): load them.
  await config.loadPluginsAndCommands({force: true});
  return config;
}

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
  guardStdout();
  try {
    config = await loadConfig(bin, options.development ?? false);
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
    process.exit(error instanceof InterruptedError ? error.status : EXIT_CODES[report.code]);
  }
}
