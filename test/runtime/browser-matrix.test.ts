import {execFileSync} from 'node:child_process';
import {existsSync} from 'node:fs';
import {mkdtemp, readFile, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import type {LanguageModelRun} from '../../src/models/causal-lm/causal-lm-run.js';
import {openRun} from '../../src/models/registry.js';
import {exportRun} from '../../src/workflows/export.js';
import {DEMO_BUNDLE} from '../../src/workflows/export-demo.js';
import {generate} from '../../src/workflows/generate.js';
import {maxDiff} from '../compress/kit-model.js';
import {ROOT} from '../helpers/cli.js';
import {AWKWARD_TEXTS} from './awkward-texts.js';
import {CHROMIUM, type Chromium, launchChromium} from './chromium.js';
import {fixtureTexts} from './fixture-texts.js';
import {type Served, serveFolder} from './serve-folder.js';
import {MATRIX_RUNS, TINY_RUNS, trainMatrixRuns, trainTinyRuns} from './tiny-exports.js';

const haveChromium = existsSync(CHROMIUM);

/** Every model kind the kit makes, by the run that stands for it here. */
const MODELS = {
  'text classifier, transformer': TINY_RUNS.text,
  'text classifier, bag of embeddings': MATRIX_RUNS.textBag,
  'text classifier, MoE': MATRIX_RUNS.textMoE,
  'numeric-feature classifier': TINY_RUNS.iris,
  'causal LM, RoPE, dense': TINY_RUNS.lm,
  'causal LM, RoPE, MoE': MATRIX_RUNS.lmMoE,
  'causal LM, learned positions, dense': MATRIX_RUNS.lmLearnedDense,
  'causal LM, learned positions, MoE': TINY_RUNS.lmLearned,
} as const;
const DTYPES = ['none', 'float16', 'uint8', 'int8', 'int4'] as const;
const PROMPTS = ['Call me Ishmael.', 'Émoji 🐋 and 鲸'];
const GREEDY = {temperature: 0, maxTokens: 16};

type Answer = number[] | {ids: number[]; text: string}[];
// biome-ignore lint/suspicious/noExplicitAny: the page's globals
type PageGlobals = any;

/**
 * The Chromium matrix (issue 19): every model kind × every export dtype, loaded with the runtime's
 * standalone bundle in one headless Chromium, against the kit in Node reading the same export (so
 * the same quantized weights): probabilities within 1e-4, greedy generations equal token for token.
 */
describe.skipIf(!haveChromium && !process.env.CI)('the Chromium matrix: model kinds × export dtypes', () => {
  let root: string;
  let served: Served;
  let browser: Chromium;
  const exports: string[] = [];
  const expected: Record<string, Answer> = {};
  let texts: string[];
  let irisRows: number[][];

  beforeAll(async () => {
    await initBackend();
    root = await mkdtemp(join(tmpdir(), 'dsk-matrix-'));
    execFileSync(process.execPath, [join(ROOT, 'scripts/build-runtime.mjs'), '--out', join(root, 'bundle')]);
    await trainTinyRuns(root);
    await trainMatrixRuns(root);
    texts = [
      ...AWKWARD_TEXTS.slice(0, 20),
      ...(await fixtureTexts()).filter((_, i) => i % 50 === 0).slice(0, 20),
    ];
    irisRows = (await readFile(join(ROOT, 'fixtures/tabular/iris.csv'), 'utf8'))
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(',').slice(0, 4).map(Number));
    const columns = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
    for (const run of Object.values(MODELS)) {
      for (const dtype of DTYPES) {
        const name = `${run}-${dtype}`;
        const out = join(root, 'exports', name);
        await exportRun({model: join(root, run), out, dtype, groupSize: dtype === 'int4' ? 8 : 0});
        exports.push(name);
        // The kit in Node on the export folder itself (the same decoded weights the browser gets).
        const opened = await openRun(out);
        try {
          if (opened.kind.decoder) {
            const lm = opened.run as LanguageModelRun;
            const generations = [];
            for (const prompt of PROMPTS) generations.push(await generate(lm, prompt, GREEDY));
            expected[name] = generations.map(({ids, text}) => ({ids, text}));
          } else {
            const rows =
              run === TINY_RUNS.iris
                ? irisRows.map((r) => Object.fromEntries(columns.map((c, j) => [c, r[j]])))
                : texts.map((text) => ({text}));
            expected[name] = Array.from(await opened.kind.classify!(opened.run, rows));
          }
        } finally {
          opened.run.model.dispose();
        }
      }
    }
    served = await serveFolder(root, {
      '/matrix.html': async () =>
        `<!doctype html><meta charset="utf-8"><script type="module">import * as dsk from '/bundle/deepseek-kit-runtime.standalone.mjs'; globalThis.dsk = dsk;</script>`,
    });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await served?.close();
    if (root) await rm(root, {recursive: true, force: true});
  });

  it(`${Object.keys(MODELS).length} kinds × ${DTYPES.join(', ')}: the browser's answers equal Node's`, async () => {
    const tab = await browser.context.newPage();
    const errors: string[] = [];
    tab.on('pageerror', (e) => errors.push(e.message));
    await tab.goto(`${served.base}/matrix.html`);
    await tab.waitForFunction(() => (globalThis as PageGlobals).dsk);
    const got = (await tab.evaluate(
      async ({exports, texts, irisRows, prompts, greedy}) => {
        const {dsk} = globalThis as PageGlobals;
        await dsk.tf.setBackend('cpu');
        const out: Record<string, unknown> = {backend: dsk.tf.getBackend()};
        const probabilities = (rows: {probabilities: object}[]) =>
          rows.flatMap((r) => Object.values(r.probabilities));
        for (const name of exports) {
          const model = await dsk.loadModel(`/exports/${name}/model.json`);
          if (model.kind === 'text-classifier') out[name] = probabilities(await model.classify(texts));
          else if (model.kind === 'feature-classifier')
            out[name] = probabilities(await model.predict(irisRows));
          else {
            const generations = [];
            for (const prompt of prompts) {
              const g = await model.generate(prompt, greedy);
              generations.push({ids: g.ids, text: g.text});
            }
            out[name] = generations;
          }
          model.dispose();
        }
        return out;
      },
      {exports, texts, irisRows, prompts: PROMPTS, greedy: GREEDY},
    )) as Record<string, Answer> & {backend: string};
    await tab.close();
    expect(errors).toEqual([]);
    expect(got.backend).toBe('cpu');
    const wrong: string[] = [];
    for (const name of exports) {
      const want = expected[name]!;
      const have = got[name];
      if (typeof want[0] === 'number') {
        const diff = maxDiff([have as number[]], [want as number[]]);
        if (!(diff < 1e-4)) wrong.push(`${name}: probabilities differ by ${diff}`);
      } else if (JSON.stringify(have) !== JSON.stringify(want)) {
        wrong.push(`${name}: browser ${JSON.stringify(have)} vs node ${JSON.stringify(want)}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(exports).toHaveLength(Object.keys(MODELS).length * DTYPES.length);
    // Not a comparison of copies: every generation has tokens, and int4 weights change every classifier's answers.
    for (const name of exports) {
      const want = expected[name]!;
      if (typeof want[0] !== 'number')
        for (const g of want as {ids: number[]}[]) expect(g.ids.length).toBeGreaterThan(0);
    }
    for (const run of [TINY_RUNS.text, MATRIX_RUNS.textBag, MATRIX_RUNS.textMoE, TINY_RUNS.iris]) {
      const diff = maxDiff([expected[`${run}-int4`] as number[]], [expected[`${run}-none`] as number[]]);
      expect(diff, run).toBeGreaterThan(1e-6);
    }
  }, 240_000);

  it('export --demo: a person types into index.html and reads the label, or the continuation streaming in', async () => {
    const demo = async (run: string, dtype: 'int8' | 'none') => {
      const out = join(root, 'exports', `demo-${run}`);
      await exportRun({
        model: join(root, run),
        out,
        dtype,
        demo: true,
        demoBundle: join(root, 'bundle', DEMO_BUNDLE),
      });
      return out;
    };
    const classifier = await demo(TINY_RUNS.text, 'int8');
    const lm = await demo(TINY_RUNS.lm, 'none');
    const review = 'A wonderful, moving film: the cast is superb and the story stays with you.';
    const prompt = 'Call me Ishmael.';
    const node = await openRun(classifier);
    const probs = Array.from(await node.kind.classify!(node.run, [{text: review}]));
    node.run.model.dispose();
    // The page samples as its script says (temperature 0.8, top-k 40, seed 42, 64 tokens).
    const continuation = await generate(lm, prompt, {temperature: 0.8, topK: 40, maxTokens: 64});

    const tab = await browser.context.newPage();
    await tab.setViewportSize({width: 900, height: 560});
    const errors: string[] = [];
    tab.on('pageerror', (e) => errors.push(e.message));
    // Playwright's 30 s default is too short on 2 cores shared with the rest of the suite.
    const timeout = 150_000;
    const ask = async (folder: string, text: string) => {
      await tab.goto(`${served.base}/exports/${folder.split('/').pop()}/index.html`);
      await tab.waitForSelector('#run:not([disabled])', {timeout});
      await tab.fill('#input', text);
      await tab.click('#run');
      await tab.waitForFunction(
        () => (globalThis as PageGlobals).document.getElementById('status')?.textContent?.startsWith('done'),
        undefined,
        {timeout},
      );
    };
    await ask(classifier, review);
    const labels = node.run.labels!;
    const best = labels[probs.indexOf(Math.max(...probs))];
    expect(await tab.textContent('#label')).toBe(best);
    const shown = await tab.$$eval('.bar .p', (cells) => cells.map((c) => Number(c.textContent)));
    expect(maxDiff([shown], [probs])).toBeLessThan(1e-3 / 2 + 1e-6);
    if (process.env.DSK_SCREENSHOT_DIR)
      await tab.screenshot({path: join(process.env.DSK_SCREENSHOT_DIR, 'demo-classifier.png')});
    await ask(lm, prompt);
    expect(await tab.textContent('#generated')).toBe(continuation.text);
    expect(continuation.text.length).toBeGreaterThan(0);
    if (process.env.DSK_SCREENSHOT_DIR)
      await tab.screenshot({path: join(process.env.DSK_SCREENSHOT_DIR, 'demo-lm.png')});
    expect(errors).toEqual([]);
    await tab.close();
  }, 360_000);
});
