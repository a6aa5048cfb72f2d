import {spawnSync} from 'node:child_process';
import {copyFile, mkdir, readFile, symlink, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {pathToFileURL} from 'node:url';
import {type CliResult, ROOT} from '../helpers/cli.js';

/**
 * A throwaway copy of the CLI package in `dir`: the real bin/run.js, dist/ and node_modules (linked),
 * and a commands folder of its own, so a test can add commands without touching the real package.
 */
export async function scratchPackage(dir: string): Promise<{
  addCommand: (id: string, run: string) => Promise<void>;
  run: (args: string[]) => CliResult;
}> {
  await mkdir(join(dir, 'bin'), {recursive: true});
  await mkdir(join(dir, 'commands'), {recursive: true});
  await copyFile(join(ROOT, 'bin', 'run.js'), join(dir, 'bin', 'run.js'));
  await symlink(join(ROOT, 'dist'), join(dir, 'dist'));
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const pjson = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'));
  pjson.oclif.commands = './commands';
  await writeFile(join(dir, 'package.json'), JSON.stringify(pjson, null, 2));
  const base = pathToFileURL(join(ROOT, 'dist', 'cli', 'kit-command.js')).href;
  return {
    /** Adds a command whose `run` body is `run` (JavaScript). */
    addCommand: (id, run) =>
      writeFile(
        join(dir, 'commands', `${id}.js`),
        `import {KitCommand} from '${base}';\n` +
          `export default class C extends KitCommand {\n` +
          `  static enableJsonFlag = true;\n  static summary = 'Scratch command ${id}.';\n` +
          `  async run() { await this.parse(C); ${run} }\n}\n`,
      ),
    run: (args) => {
      const r = spawnSync(process.execPath, [join(dir, 'bin', 'run.js'), ...args], {
        cwd: dir,
        encoding: 'utf8',
      });
      return {code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr};
    },
  };
}
