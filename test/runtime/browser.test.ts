import {existsSync} from 'node:fs';
import {cp, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {createServer, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {tmpdir} from 'node:os';
import {join, normalize} from 'node:path';
import {chromium} from 'playwright-core';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {exportModel} from '../../src/compress/export.js';
import {loadModelFolder} from '../../src/compress/model-folder.js';
import {kitClassifier, maxDiff, predictRows, sampleIds} from '../compress/kit-model.js';
import {ROOT} from '../helpers/cli.js';
import {bundleRuntime} from './browser-bundle.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && !process.env.CI) {
  console.warn(
    `browser test skipped: no ${CHROMIUM} (apt-get install chromium); under CI it runs and fails instead`,
  );
}

const PAGE = `<!doctype html><html><head><meta charset="utf-8">
<script src="/tf.min.js"></script><script src="/runtime.js"></script></head><body>exported models</body></html>`;
const DTYPES = ['none', 'uint8', 'int8'] as const;

describe.skipIf(!haveChromium && !process.env.CI)('exported models in headless Chromium', () => {
  let root: string;
  let server: Server;
  let base: string;
  const node: Record<string, number[][]> = {};
  const ids = sampleIds(6);

  beforeAll(async () => {
    await initBackend();
    root = await mkdtemp(join(tmpdir(), 'dsk-browser-'));
    const model = kitClassifier('moe');
    for (const dtype of DTYPES) {
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
    json.weightsManifest[0].paths = ['../../tf.min.js'];
    await writeFile(join(evil, 'model.json'), JSON.stringify(json));
    const files: Record<string, () => Promise<Buffer | string>> = {
      '/': async () => PAGE,
      '/tf.min.js': () => readFile(join(ROOT, 'node_modules/@tensorflow/tfjs/dist/tf.min.js')),
      '/runtime.js': bundleRuntime,
    };
    server = createServer(async (req, res) => {
      const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
      try {
        const body = files[path]
          ? await files[path]()
          : path.startsWith('/models/') && !path.includes('..')
            ? await readFile(join(root, path))
            : undefined;
        if (body === undefined) throw new Error('not served');
        const type = path.endsWith('.js')
          ? 'text/javascript'
          : path.endsWith('.json')
            ? 'application/json'
            : path === '/'
              ? 'text/html'
              : 'application/octet-stream';
        res.writeHead(200, {'content-type': type}).end(body);
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((done) => server?.close(done));
    await rm(root, {recursive: true, force: true});
  });

  it('predicts as Node does: fp32 and uint8 with stock tf.loadLayersModel, int8 with the runtime', async () => {
    const profile = await mkdtemp(join(tmpdir(), 'dsk-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(base);
      const got = await page.evaluate(async (ids) => {
        // biome-ignore lint/suspicious/noExplicitAny: globals of the page's scripts
        const w = globalThis as any;
        const tf = w.tf;
        await tf.setBackend('cpu');
        const run = async (model: {predict(x: unknown): {array(): Promise<number[][]>}}) =>
          model.predict(tf.tensor2d(ids, undefined, 'int32')).array();
        const stockInt8 = await tf.loadLayersModel('/models/int8/model.json').then(
          () => 'loaded',
          (e: Error) => e.message,
        );
        const escaped = await w.deepseekKit.loadLayersModel('/models/evil/model.json').then(
          () => 'loaded',
          (e: Error) => e.message,
        );
        return {
          escaped,
          none: await run(await tf.loadLayersModel('/models/none/model.json')),
          uint8: await run(await tf.loadLayersModel('/models/uint8/model.json')),
          int8: await run(await w.deepseekKit.loadLayersModel('/models/int8/model.json')),
          labels: await w.deepseekKit.loadLabels('/models/int8/labels.json'),
          stockInt8,
          backend: tf.getBackend(),
        };
      }, ids);
      expect(errors).toEqual([]);
      expect(got.backend).toBe('cpu');
      for (const dtype of DTYPES) expect(maxDiff(got[dtype], node[dtype]!)).toBeLessThan(1e-4);
      expect(got.labels).toEqual(['neg', 'neu', 'pos']);
      // Stock tfjs cannot read per-channel int8: it says so instead of returning wrong numbers.
      expect(got.stockInt8).toMatch(/unknown quantization dtype int8/);
      // The runtime fetches nothing outside the model's folder.
      expect(got.escaped).toMatch(
        /tf\.min\.js is outside the model folder .*\/models\/evil\/; refusing to fetch it/,
      );
      // The quantized models really differ from fp32 (the check above is not comparing copies).
      expect(maxDiff(node.int8!, node.none!)).toBeGreaterThan(0);
    } finally {
      await context.close();
      await rm(profile, {recursive: true, force: true});
    }
  });
});
