import {execFileSync} from 'node:child_process';
import {existsSync} from 'node:fs';
import {cp, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {build} from 'esbuild';
import type {BrowserContext, Page} from 'playwright-core';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {exportModel} from '../../src/compress/export.js';
import {loadModelFolder} from '../../src/compress/model-folder.js';
import {asLanguageModelRun} from '../../src/models/causal-lm/causal-lm-run.js';
import {classifyFeatures} from '../../src/models/feature-classifier/feature-classifier.js';
import {asFeatureClassifierRun} from '../../src/models/feature-classifier/feature-classifier-run.js';
import {classifyTexts} from '../../src/models/text-classifier/classifier.js';
import {asClassifierRun} from '../../src/models/text-classifier/classifier-run.js';
import {loadRun} from '../../src/run/load-run.js';
import {generate} from '../../src/workflows/generate.js';
import {kitClassifier, maxDiff, predictRows, sampleIds} from '../compress/kit-model.js';
import {ROOT} from '../helpers/cli.js';
import {AWKWARD_TEXTS} from './awkward-texts.js';
import {UNICODE_CHECKS, type UnicodeCheck, unicodeChunks} from './browser-probe.js';
import {CHROMIUM, type Chromium, launchChromium} from './chromium.js';
import {fixtureTexts} from './fixture-texts.js';
import {KIT_TOKENIZERS, kitTokenizer} from './kit-tokenizers.js';
import {type Served, serveFolder} from './serve-folder.js';
import {exportTinyRun, TINY_RUNS, trainTinyRuns} from './tiny-exports.js';

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && !process.env.CI) {
  console.warn(
    `browser test skipped: no ${CHROMIUM} (apt-get install chromium); under CI it runs and fails instead`,
  );
}

// The two prebuilt bundles as a web page uses them: the standalone one alone, the other with an
// import map that points @tensorflow/tfjs at the page's own tfjs (an ES module build of it).
const page = (script: string, importMap = '') => `<!doctype html><html><head><meta charset="utf-8">
${importMap}<script type="module">${script}</script></head><body>deepseek-kit runtime</body></html>`;
const PAGES = {
  '/standalone.html': page(
    "import * as dsk from '/bundle/deepseek-kit-runtime.standalone.mjs'; globalThis.dsk = dsk; globalThis.tf = dsk.tf;",
  ),
  '/external.html': page(
    "import * as dsk from '/bundle/deepseek-kit-runtime.mjs'; import * as tf from '@tensorflow/tfjs'; globalThis.dsk = dsk; globalThis.tf = tf;",
    '<script type="importmap">{"imports": {"@tensorflow/tfjs": "/tfjs.mjs"}}</script>',
  ),
  '/probe.html': page("import * as probe from '/bundle/probe.mjs'; globalThis.probe = probe;"),
};
const EXPORTS = ['text', 'text-int8', TINY_RUNS.iris, TINY_RUNS.lm, TINY_RUNS.lmLearned];
const GENERATIONS = [
  {prompt: 'Call me Ishmael.', options: {temperature: 0, maxTokens: 24}},
  {prompt: 'Émoji 🐋 and 鲸', options: {temperature: 0.9, topK: 20, topP: 0.9, seed: 7, maxTokens: 24}},
];

// biome-ignore lint/suspicious/noExplicitAny: the page's globals
type PageGlobals = any;

describe.skipIf(!haveChromium && !process.env.CI)('the runtime bundles in headless Chromium', () => {
  let root: string;
  let served: Served;
  let browser: Chromium;
  let context: BrowserContext;
  const errors: string[] = [];

  beforeAll(async () => {
    await initBackend();
    root = await mkdtemp(join(tmpdir(), 'dsk-browser-'));
    // The bundles as `npm run build` makes them, and a probe of the tokenizer's internals.
    execFileSync(process.execPath, [join(ROOT, 'scripts/build-runtime.mjs'), '--out', join(root, 'bundle')]);
    await build({
      entryPoints: [join(ROOT, 'test/runtime/browser-probe.ts')],
      outfile: join(root, 'bundle/probe.mjs'),
      bundle: true,
      format: 'esm',
      platform: 'browser',
      logLevel: 'warning',
    });
    await trainTinyRuns(root);
    for (const name of Object.values(TINY_RUNS))
      await exportTinyRun(join(root, name), join(root, 'exports', name));
    await exportTinyRun(join(root, TINY_RUNS.text), join(root, 'exports', 'text-int8'), 'int8');
    for (const name of KIT_TOKENIZERS) {
      const tokenizer = await kitTokenizer(name);
      await writeFile(join(root, `${name}.json`), JSON.stringify(tokenizer.toJSON()));
    }
    const tfjs = () => readFile(join(ROOT, 'node_modules/@tensorflow/tfjs/dist/tf.fesm.min.js'));
    served = await serveFolder(root, {
      ...Object.fromEntries(Object.entries(PAGES).map(([path, html]) => [path, async () => html])),
      '/tfjs.mjs': tfjs,
    });
    browser = await launchChromium();
    context = browser.context;
  });

  afterAll(async () => {
    await browser?.close();
    await served?.close();
    await rm(root, {recursive: true, force: true});
  });

  const open = async (path: keyof typeof PAGES): Promise<Page> => {
    const tab = await context.newPage();
    tab.on('pageerror', (e) => errors.push(e.message));
    await tab.goto(`${served.base}${path}`);
    await tab.waitForFunction(() => (globalThis as PageGlobals).dsk ?? (globalThis as PageGlobals).probe);
    return tab;
  };

  it("tokenizes as Node's tokenizers: the awkward texts and 300 fixture texts, for every kind the kit makes", async () => {
    const texts = [...AWKWARD_TEXTS, ...(await fixtureTexts()).filter((_, i) => i % 11 === 0).slice(0, 300)];
    const tab = await open('/standalone.html');
    for (const name of KIT_TOKENIZERS) {
      const node = await kitTokenizer(name);
      const expected = await node.encodeBatch(texts);
      const got = await tab.evaluate(
        async ({file, kind, special, texts}) => {
          const {dsk} = globalThis as PageGlobals;
          const json = await (await fetch(file)).json();
          const tokenizer = dsk.RuntimeTokenizer.fromJSON(json, {kind, special});
          const ids = texts.map((t: string) => tokenizer.encodeSync(t));
          return {ids, decoded: ids.map((i: number[]) => tokenizer.decodeSync(i))};
        },
        {file: `/${encodeURIComponent(name)}.json`, kind: node.kind, special: node.special, texts},
      );
      const wrong = texts.filter((_, i) => JSON.stringify(got.ids[i]) !== JSON.stringify(expected[i]));
      expect(wrong, name).toEqual([]);
      for (const [i, ids] of expected.entries()) expect(got.decoded[i]).toBe(await node.decode(ids));
    }
    expect(errors).toEqual([]);
    await tab.close();
  });

  it("splits and normalizes every code point as in Node (and so as the binding), in Chromium's Unicode", async () => {
    // tokenizer-unicode.test.ts checks Node's results against the binding; here Chromium's against Node's.
    const checks = Object.keys(UNICODE_CHECKS) as UnicodeCheck[];
    const expected = Object.fromEntries(
      checks.map((check) => [
        check,
        unicodeChunks(check).map((chunk) => UNICODE_CHECKS[check].run(chunk.join(''))),
      ]),
    );
    await writeFile(join(root, 'unicode.json'), JSON.stringify(expected));
    const tab = await open('/probe.html');
    const differing = await tab.evaluate(async () => {
      const {probe} = globalThis as PageGlobals;
      return probe.differingChunks(await (await fetch('/unicode.json')).json());
    });
    // A differing chunk is named by its first character in context.
    const named = Object.fromEntries(
      checks.map((check) => [check, (differing[check] as number[]).map((i) => unicodeChunks(check)[i]![0])]),
    );
    expect(named).toEqual({lowercase: [], cased: [], bertWords: [], byteLevel: []});
    await tab.close();
  });

  it('classifies, predicts and generates as Node does, from the standalone bundle', async () => {
    const texts = [...AWKWARD_TEXTS.slice(0, 30), ...(await fixtureTexts()).slice(0, 20)];
    const textRun = asClassifierRun(await loadRunOf(TINY_RUNS.text));
    const int8 = await loadModelFolder(join(root, 'exports', 'text-int8'));
    const expected = {
      text: Array.from(await classifyTexts(textRun, texts)),
      'text-int8': Array.from(await classifyTexts({...textRun, model: int8}, texts)),
    };
    int8.dispose();
    const irisRun = asFeatureClassifierRun(await loadRunOf(TINY_RUNS.iris));
    const irisRows = (await readFile(join(ROOT, 'fixtures/tabular/iris.csv'), 'utf8'))
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(',').slice(0, 4).map(Number));
    const iris = Array.from(await classifyFeatures(irisRun, Float32Array.from(irisRows.flat())));
    const generations: Record<string, {ids: number[]; text: string}[]> = {};
    for (const name of [TINY_RUNS.lm, TINY_RUNS.lmLearned]) {
      const run = asLanguageModelRun(await loadRunOf(name));
      generations[name] = [];
      for (const {prompt, options} of GENERATIONS)
        generations[name].push(await generate(run, prompt, options));
      run.model.dispose();
    }

    const tab = await open('/standalone.html');
    const got = await tab.evaluate(
      async ({exports, texts, irisRows, generations}) => {
        const {dsk, tf} = globalThis as PageGlobals;
        await tf.setBackend('cpu');
        const out: Record<string, unknown> = {backend: tf.getBackend()};
        for (const name of exports) {
          const model = await dsk.loadModel(`/exports/${name}/model.json`);
          if (model.kind === 'text-classifier') {
            out[name] = (await model.classify(texts)).flatMap((r: {probabilities: object}) =>
              Object.values(r.probabilities),
            );
          } else if (model.kind === 'feature-classifier') {
            out[name] = (await model.predict(irisRows)).flatMap((r: {probabilities: object}) =>
              Object.values(r.probabilities),
            );
          } else {
            const results = [];
            for (const {prompt, options} of generations) {
              const pieces: string[] = [];
              const g = await model.generate(prompt, {...options, onToken: (t: string) => pieces.push(t)});
              results.push({ids: g.ids, text: g.text, streamed: pieces.join('')});
            }
            out[name] = results;
          }
          model.dispose();
        }
        return out;
      },
      {exports: EXPORTS, texts, irisRows, generations: GENERATIONS},
    );
    expect(errors).toEqual([]);
    expect(got.backend).toBe('cpu');
    expect(maxDiff([got.text as number[]], [expected.text])).toBeLessThan(1e-4);
    expect(maxDiff([got['text-int8'] as number[]], [expected['text-int8']])).toBeLessThan(1e-4);
    expect(maxDiff([got[TINY_RUNS.iris] as number[]], [iris])).toBeLessThan(1e-4);
    for (const name of [TINY_RUNS.lm, TINY_RUNS.lmLearned]) {
      const browser = got[name] as {ids: number[]; text: string; streamed: string}[];
      browser.forEach((g, i) => {
        expect(g.ids).toEqual(generations[name]![i]!.ids);
        expect(g.text).toBe(generations[name]![i]!.text);
        expect(g.streamed).toBe(g.text);
      });
    }
    await tab.close();
  });

  it("the external bundle registers the kit's layers in the page's tfjs: stock loading as Node, int8 through the runtime", async () => {
    const ids = sampleIds(6);
    const node: Record<string, number[][]> = {};
    const model = kitClassifier('moe');
    for (const dtype of ['none', 'uint8', 'int8'] as const) {
      const out = join(root, 'models', dtype);
      await exportModel(model, out, {dtype, labels: ['neg', 'neu', 'pos']});
      const loaded = await loadModelFolder(out);
      node[dtype] = predictRows(loaded, ids);
      loaded.dispose();
    }
    model.dispose();
    // A tampered export whose weights point out of its folder.
    const evil = join(root, 'models', 'evil');
    await cp(join(root, 'models', 'int8'), evil, {recursive: true});
    const json = JSON.parse(await readFile(join(evil, 'model.json'), 'utf8'));
    json.weightsManifest[0].paths = ['../../tfjs.mjs'];
    await writeFile(join(evil, 'model.json'), JSON.stringify(json));

    const tab = await open('/external.html');
    const got = await tab.evaluate(async (ids) => {
      const {dsk, tf} = globalThis as PageGlobals;
      await tf.setBackend('cpu');
      const run = async (m: {predict(x: unknown): {array(): Promise<number[][]>}}) =>
        m.predict(tf.tensor2d(ids, undefined, 'int32')).array();
      const failure = (p: Promise<unknown>) =>
        p.then(
          () => 'loaded',
          (e: Error) => e.message,
        );
      return {
        none: await run(await tf.loadLayersModel('/models/none/model.json')),
        uint8: await run(await tf.loadLayersModel('/models/uint8/model.json')),
        int8: await run(await dsk.loadLayersModel('/models/int8/model.json')),
        labels: await dsk.loadLabels('/models/int8/labels.json'),
        stockInt8: await failure(tf.loadLayersModel('/models/int8/model.json')),
        escaped: await failure(dsk.loadLayersModel('/models/evil/model.json')),
        backend: tf.getBackend(),
      };
    }, ids);
    expect(errors).toEqual([]);
    expect(got.backend).toBe('cpu');
    for (const dtype of ['none', 'uint8', 'int8'] as const)
      expect(maxDiff(got[dtype], node[dtype]!)).toBeLessThan(1e-4);
    expect(got.labels).toEqual(['neg', 'neu', 'pos']);
    // Stock tfjs cannot read per-channel int8: it says so instead of returning wrong numbers.
    expect(got.stockInt8).toMatch(/unknown quantization dtype int8/);
    // The runtime fetches nothing outside the model's folder.
    expect(got.escaped).toMatch(
      /tfjs\.mjs is outside the model folder .*\/models\/evil\/; refusing to fetch it/,
    );
    // The quantized models really differ from fp32 (the check above is not comparing copies).
    expect(maxDiff(node.int8!, node.none!)).toBeGreaterThan(0);
    await tab.close();
  });

  const loadRunOf = (name: string) => loadRun(join(root, name));
});
