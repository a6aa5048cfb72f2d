// npm run bench:runtime [-- --json]: the browser runtime (issue 19's bars). Bundle sizes (minified,
// gzip) and what installing the runtime-only package brings in, against the whole kit; then time to
// first prediction, classify rows/s and generate tokens/s in headless Chromium on each tfjs backend
// that loads there (cpu, wasm, webgl), against the same runtime code in Node on the native backend.
// Models: a `small` text classifier (2 blocks of 64, maxLen 256, 8k WordPiece) and a `small`
// language model (4 blocks of 128, RoPE, BPE), trained 2 steps (speed does not depend on the
// weights), exported fp32 by `export` (exportRun).
import {execFileSync} from 'node:child_process';
import {existsSync} from 'node:fs';
import {mkdtemp, readdir, readFile, rm, stat, writeFile} from 'node:fs/promises';
import {cpus, loadavg, tmpdir} from 'node:os';
import {join} from 'node:path';
import {gzipSync} from 'node:zlib';
import {build} from 'esbuild';
import {initBackend} from '../src/backend/backend.js';
import {trainLanguageModel} from '../src/models/causal-lm/causal-lm-train.js';
import {trainClassifier} from '../src/models/text-classifier/classifier-train.js';
import {type LanguageModel, loadModel, type TextClassifier} from '../src/runtime/index.js';
import {ROOT} from '../test/helpers/cli.js';
import {CHROMIUM, launchChromium} from '../test/runtime/chromium.js';
import {fixtureTexts} from '../test/runtime/fixture-texts.js';
import {serveFolder} from '../test/runtime/serve-folder.js';
import {exportTinyRun} from '../test/runtime/tiny-exports.js';
import {printRows, type Row, wantsJson} from './report.js';

const ROWS = 256;
const NEW_TOKENS = 64;
const PROMPT = 'Call me Ishmael. Some years ago, never mind how long precisely,';
const log = (message: string) => process.stderr.write(`${message}\n`);

/** Bytes of every file under `dir`. */
async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, {recursive: true, withFileTypes: true})) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

const root = await mkdtemp(join(tmpdir(), 'dsk-bench-runtime-'));
const rows: Row[] = [];
try {
  // Bundles, as `npm run build` makes them.
  const bundles = join(root, 'bundle');
  execFileSync(process.execPath, [join(ROOT, 'scripts/build-runtime.mjs'), '--out', bundles]);
  const meta = JSON.parse(await readFile(join(bundles, 'meta.json'), 'utf8'));
  for (const [variant, {file, bytes}] of Object.entries(meta) as [string, {file: string; bytes: number}][]) {
    const gzip = gzipSync(await readFile(join(bundles, file))).length;
    rows.push({
      measure: `bundle ${variant} (${file})`,
      value: bytes / 1024,
      unit: 'KB',
      gzip_kb: gzip / 1024,
    });
  }

  // The runtime-only package installed into an empty project, against the kit's own node_modules.
  log('packing and installing deepseek-kit-runtime…');
  execFileSync(process.execPath, [join(ROOT, 'scripts/build-runtime.mjs')], {stdio: 'ignore'});
  execFileSync('npm', ['pack', join(ROOT, 'packages/runtime'), '--pack-destination', root], {
    stdio: 'ignore',
  });
  const tarball = (await readdir(root)).find((f) => f.endsWith('.tgz'))!;
  await writeFile(join(root, 'package.json'), '{"name": "runtime-only", "private": true}\n');
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(root, tarball)], {
    cwd: root,
    stdio: 'ignore',
  });
  const installed = execFileSync('npm', ['ls', '--all', '--parseable'], {cwd: root, encoding: 'utf8'})
    .trim()
    .split('\n')
    .slice(1);
  const forbidden = installed.filter((p) => /tfjs-node|[\\/]tokenizers|wordnet/.test(p));
  rows.push({
    measure: 'runtime-only install (node_modules)',
    value: (await treeBytes(join(root, 'node_modules'))) / 2 ** 20,
    unit: 'MB',
    packages: installed.length,
    native_or_wordnet: forbidden.length,
  });
  rows.push({
    measure: 'whole kit install (node_modules)',
    value: (await treeBytes(join(ROOT, 'node_modules'))) / 2 ** 20,
    unit: 'MB',
  });

  // Models.
  log('training the models (2 steps each)…');
  await initBackend();
  const reviews = await fixtureTexts();
  const texts = reviews.slice(0, ROWS);
  await trainClassifier({
    data: join(ROOT, 'fixtures/imdb/reviews.jsonl'),
    out: join(root, 'cls'),
    preset: 'small',
    steps: 2,
    batchSize: 8,
  });
  await trainLanguageModel({
    data: join(ROOT, 'fixtures/text/moby-dick.txt'),
    out: join(root, 'lm'),
    preset: 'small',
    steps: 2,
    batchSize: 4,
  });
  for (const name of ['cls', 'lm'])
    (await exportTinyRun(join(root, name), join(root, 'exports', name))).model.dispose();

  // Node: the runtime's code over HTTP, native backend.
  const served = await serveFolder(root);
  const nodeStart = performance.now();
  const cls = (await loadModel(`${served.base}/exports/cls/model.json`)) as TextClassifier;
  await cls.classify([texts[0]!]);
  const nodeFirst = performance.now() - nodeStart;
  await cls.classify(texts.slice(0, 64));
  let t = performance.now();
  await cls.classify(texts);
  const nodeRows = ROWS / ((performance.now() - t) / 1000);
  const lm = (await loadModel(`${served.base}/exports/lm/model.json`)) as LanguageModel;
  await lm.generate(PROMPT, {temperature: 0, maxTokens: 8});
  t = performance.now();
  const g = await lm.generate(PROMPT, {temperature: 0, maxTokens: NEW_TOKENS});
  const nodeTokens = g.ids.length / ((performance.now() - t) / 1000);
  rows.push({
    measure: 'Node, tensorflow (native)',
    first_prediction_ms: nodeFirst,
    classify_rows_s: nodeRows,
    generate_tokens_s: nodeTokens,
  });

  // Chromium: the standalone bundle for cpu/webgl, and the runtime bundled with the wasm backend.
  if (!existsSync(CHROMIUM)) {
    log(`no ${CHROMIUM}: browser rows skipped (apt-get install chromium)`);
  } else {
    await build({
      stdin: {
        contents: [
          `export * from ${JSON.stringify(join(ROOT, 'src/runtime/index.ts'))};`,
          "export * as tf from '@tensorflow/tfjs';",
          "export {setWasmPaths} from '@tensorflow/tfjs-backend-wasm';",
        ].join('\n'),
        resolveDir: ROOT,
      },
      outfile: join(bundles, 'with-wasm.mjs'),
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      logLevel: 'error',
    });
    const wasmDir = join(ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');
    const wasmFiles = Object.fromEntries(
      (await readdir(wasmDir))
        .filter((f) => f.endsWith('.wasm'))
        .map((f) => [`/wasm/${f}`, () => readFile(join(wasmDir, f))]),
    );
    const page = (bundle: string) =>
      `<!doctype html><meta charset="utf-8"><script type="module">globalThis.started = performance.now();
import * as dsk from '/bundle/${bundle}'; globalThis.dsk = dsk;</script>`;
    const browser = await serveFolder(root, {
      ...wasmFiles,
      '/standalone.html': async () => page(meta.standalone.file),
      '/wasm.html': async () => page('with-wasm.mjs'),
    });
    // WebGL stays on (software here), to time that backend too.
    const chromium = await launchChromium({webgl: true});
    const {context} = chromium;
    try {
      for (const backend of ['cpu', 'wasm', 'webgl']) {
        const tab = await context.newPage();
        await tab.goto(`${browser.base}/${backend === 'wasm' ? 'wasm' : 'standalone'}.html`);
        // biome-ignore lint/suspicious/noExplicitAny: the page's globals
        await tab.waitForFunction(() => (globalThis as any).dsk);
        const result = await tab.evaluate(
          async ({backend, texts, prompt, newTokens}) => {
            // biome-ignore lint/suspicious/noExplicitAny: the page's globals
            const {dsk} = globalThis as any;
            if (backend === 'wasm') dsk.setWasmPaths('/wasm/');
            if (!(await dsk.tf.setBackend(backend).catch(() => false))) return {error: 'does not load here'};
            await dsk.tf.ready();
            const cls = await dsk.loadModel('/exports/cls/model.json');
            await cls.classify([texts[0]]);
            const first = performance.now();
            await cls.classify(texts.slice(0, 64));
            let t = performance.now();
            await cls.classify(texts);
            const rows = texts.length / ((performance.now() - t) / 1000);
            const lm = await dsk.loadModel('/exports/lm/model.json');
            await lm.generate(prompt, {temperature: 0, maxTokens: 8});
            t = performance.now();
            const g = await lm.generate(prompt, {temperature: 0, maxTokens: newTokens});
            return {first, rows, tokens: g.ids.length / ((performance.now() - t) / 1000), ids: g.ids};
          },
          {backend, texts, prompt: PROMPT, newTokens: NEW_TOKENS},
        );
        if ('error' in result) {
          rows.push({measure: `Chromium, ${backend}`, note: String(result.error)});
        } else {
          rows.push({
            measure: `Chromium, ${backend}`,
            // From navigation: bundle fetched and parsed, backend set up, model and tokenizer fetched.
            first_prediction_ms: result.first,
            classify_rows_s: result.rows,
            generate_tokens_s: result.tokens,
            same_tokens_as_node: JSON.stringify(result.ids) === JSON.stringify(g.ids),
          });
        }
        await tab.close();
      }
    } finally {
      await chromium.close();
      await browser.close();
    }
  }
  cls.dispose();
  lm.dispose();
  await served.close();
} finally {
  await rm(root, {recursive: true, force: true});
}
printRows(rows);
if (!wantsJson) process.stdout.write(`\n${cpus().length} cores, load average ${loadavg()[0]!.toFixed(2)}\n`);
