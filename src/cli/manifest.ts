import {readdir, readFile, rename, stat, writeFile} from 'node:fs/promises';
import {join, relative, sep} from 'node:path';
import {type Interfaces, Plugin} from '@oclif/core';

/**
 * oclif's command manifest: every command's id, flags and help, so that start-up, `--help` and
 * `--version` load no command module (and so no tfjs). `npm run build` writes it next to
 * package.json; `main` ignores it when it is stale (see `manifestStaleness`).
 */
export const MANIFEST_FILE = 'oclif.manifest.json';

/** Command files as oclif finds them: scripts, not type declarations; subfolders are topics. */
const COMMAND_FILE = /\.(js|cjs|mjs|ts|mts|cts)$/;
const NOT_COMMAND = /\.d\.(ts|mts|cts)$/;

/** The ids of the commands in a folder (`train`, `topic:sub`) and the newest file's mtime (ms). */
export async function commandFiles(commandsDir: string): Promise<{ids: string[]; newest: number}> {
  const names = await readdir(commandsDir, {recursive: true});
  const files = names.filter((n) => COMMAND_FILE.test(n) && !NOT_COMMAND.test(n));
  const times = await Promise.all(files.map(async (f) => (await stat(join(commandsDir, f))).mtimeMs));
  const ids = files.map((f) =>
    f
      .replace(COMMAND_FILE, '')
      .split(sep)
      .join(':')
      .replace(/(^|:)index$/, ''),
  );
  return {ids: ids.sort(), newest: Math.max(0, ...times)};
}

/** Builds the manifest of the package at `root` by loading every command, as `oclif manifest` does. */
export async function buildManifest(root: string): Promise<Interfaces.Manifest> {
  const plugin = new Plugin({
    root,
    type: 'core',
    isRoot: true,
    ignoreManifest: true,
    errorOnManifestCreate: true,
  });
  await plugin.load();
  return plugin.manifest;
}

/** Writes the manifest of the package at `root` (temp name + rename); returns its path and command ids. */
export async function writeManifest(root: string): Promise<{path: string; commands: string[]}> {
  const manifest = await buildManifest(root);
  const path = join(root, MANIFEST_FILE);
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(temp, path);
  return {path, commands: Object.keys(manifest.commands).sort()};
}

/**
 * Why the manifest at `root` does not describe the commands in its folder (package.json
 * `oclif.commands`), or undefined when it does: missing, unreadable, for another version, listing
 * other commands than the folder holds, or older than a command file (flags may have changed). oclif
 * trusts any manifest it finds, so a stale one would hide a new command.
 */
export async function manifestStaleness(root: string): Promise<string | undefined> {
  const pjson = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
    version: string;
    oclif: {commands: string};
  };
  const commandsDir = join(root, pjson.oclif.commands);
  const path = join(root, MANIFEST_FILE);
  let manifest: Interfaces.Manifest;
  let written: number;
  try {
    [manifest, written] = await Promise.all([
      readFile(path, 'utf8').then((text) => JSON.parse(text) as Interfaces.Manifest),
      stat(path).then((s) => s.mtimeMs),
    ]);
  } catch {
    return `no readable ${MANIFEST_FILE}`;
  }
  if (manifest.version !== pjson.version) return `${MANIFEST_FILE} is for version ${manifest.version}`;
  const {ids, newest} = await commandFiles(commandsDir);
  const listed = Object.keys(manifest.commands ?? {});
  const dir = relative(root, commandsDir);
  const missing = ids.filter((id) => !listed.includes(id));
  if (missing.length > 0) return `${MANIFEST_FILE} lacks ${missing.join(', ')} from ${dir}`;
  const gone = listed.filter((id) => !ids.includes(id));
  if (gone.length > 0) return `${MANIFEST_FILE} lists ${gone.join(', ')}, not in ${dir}`;
  if (newest > written) return `${MANIFEST_FILE} is older than ${dir}`;
  return undefined;
}
