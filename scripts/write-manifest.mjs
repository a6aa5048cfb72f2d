#!/usr/bin/env node
// Build step after tsc: writes oclif.manifest.json from the compiled commands in dist/, so that the
// CLI starts without loading every command (and tfjs). `npm run build` (and so `npm ci`, through
// prepare) runs it; the CLI ignores a manifest that no longer matches dist/commands.
import {fileURLToPath} from 'node:url';
import {writeManifest} from '../dist/cli/manifest.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const {path, commands} = await writeManifest(root);
process.stderr.write(`wrote ${path}: ${commands.length} commands\n`);
