#!/usr/bin/env node
// Bundles the browser runtime (src/runtime) as ES modules, with esbuild, offline:
//   deepseek-kit-runtime.mjs             @tensorflow/tfjs left as an import: for bundlers and import
//                                        maps, so the page's one tfjs gets the kit's layers
//   deepseek-kit-runtime.standalone.mjs  tfjs inside (and re-exported as `tf`): one file for a
//                                        <script type="module">, no build step
// into packages/runtime/dist/ (the runtime-only package, whose one dependency is @tensorflow/tfjs)
// and dist/runtime/browser/ (the same files inside deepseek-kit), with the runtime's type
// declarations in packages/runtime/dist/types/. `npm run build` runs it after tsc.
//
//   node scripts/build-runtime.mjs [--out DIR]   DIR instead of both folders, bundles and meta.json only
import {execFileSync} from 'node:child_process';
import {copyFile, mkdir, readFile, rm, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {build} from 'esbuild';

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const PACKAGE = path.join(ROOT, 'packages/runtime');
const ENTRY = path.join(ROOT, 'src/runtime/index.ts');
const STANDALONE_ENTRY = path.join(ROOT, 'src/runtime/standalone.ts');
const BUNDLES = {
  external: 'deepseek-kit-runtime.mjs',
  standalone: 'deepseek-kit-runtime.standalone.mjs',
};

/** Builds both bundles into `out`; returns their bytes and the modules each imports at run time. */
async function bundle(out) {
  await mkdir(out, {recursive: true});
  const meta = {};
  for (const [variant, file] of Object.entries(BUNDLES)) {
    const result = await build({
      entryPoints: [variant === 'external' ? ENTRY : STANDALONE_ENTRY],
      outfile: path.join(out, file),
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      external: variant === 'external' ? ['@tensorflow/tfjs'] : [],
      metafile: true,
      legalComments: 'eof',
      logLevel: 'warning',
    });
    const output = Object.values(result.metafile.outputs)[0];
    meta[variant] = {file, bytes: output.bytes, imports: [...new Set(output.imports.map((i) => i.path))]};
  }
  await writeFile(path.join(out, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
  return meta;
}

const outFlag = process.argv.indexOf('--out');
if (outFlag > 0) {
  await bundle(path.resolve(process.argv[outFlag + 1]));
} else {
  const dist = path.join(PACKAGE, 'dist');
  await rm(dist, {recursive: true, force: true});
  const meta = await bundle(dist);
  const copy = path.join(ROOT, 'dist/runtime/browser');
  await mkdir(copy, {recursive: true});
  for (const {file} of Object.values(meta)) await copyFile(path.join(dist, file), path.join(copy, file));
  execFileSync(
    process.execPath,
    [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.runtime.json'],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  );
  const version = JSON.parse(await readFile(path.join(PACKAGE, 'package.json'), 'utf8')).version;
  console.error(
    `deepseek-kit-runtime ${version}: ${Object.values(meta)
      .map((m) => `${m.file} ${(m.bytes / 1024).toFixed(0)} KB`)
      .join(', ')}`,
  );
}
