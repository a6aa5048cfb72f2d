import {existsSync} from 'node:fs';
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {chromium} from 'playwright-core';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import type {MetricsRecord} from '../../src/train/metrics-log.js';
import {evaluateRun} from '../../src/workflows/evaluate.js';
import {evaluationHtml} from '../../src/workflows/evaluation-html.js';
import {trainRun} from '../../src/workflows/train.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
let root: string;

beforeAll(async () => {
  await initBackend();
  root = await mkdtemp(join(tmpdir(), 'dsk-report-'));
});
afterAll(() => rm(root, {recursive: true, force: true}));

/** A language model's evaluation with an MoE training log: two layers of four experts. */
function lmPage(): string {
  const records: MetricsRecord[] = [];
  for (let step = 1; step <= 60; step++) {
    const load: Record<string, number> = {};
    for (const layer of ['block0/ffn', 'block1/ffn'])
      for (let e = 0; e < 4; e++) load[`moe/${layer}/e${e}`] = 1 + (e - 1.5) * Math.exp(-step / 20);
    records.push({type: 'step', step, epoch: 0, time: step, loss: 6 - Math.log(step), ...load});
    if (step % 20 === 0)
      records.push({type: 'eval', step, epoch: 0, time: step, val_loss: 6.2 - Math.log(step)});
  }
  return evaluationHtml({
    evaluation: {
      task: 'lm',
      model: 'runs/moe-lm',
      data: 'moby.txt',
      loss: 3.2,
      perplexity: 24.5,
      bits_per_byte: 1.9,
      tokens: 900,
      bytes: 4000,
      accuracy: 0.31,
    },
    records,
    kind: 'causal-lm',
  });
}

describe('evaluate --html', () => {
  it('writes a page with the confusion matrix, per-class scores, the baseline and the training curves', async () => {
    // The default classifier, 4 epochs on the first 800 Reuters rows, scored on the other 200.
    const rows = (await readFile('fixtures/reuters/news.jsonl', 'utf8')).trim().split('\n');
    const [train, test] = [join(root, 'train.jsonl'), join(root, 'test.jsonl')];
    await writeFile(train, rows.slice(0, 800).join('\n'));
    await writeFile(test, rows.slice(800).join('\n'));
    const run = join(root, 'reuters');
    await trainRun('classify', {data: train, out: run, epochs: 4});
    const html = join(root, 'report.html');
    const report = await evaluateRun({model: run, data: test, baseline: true, html});
    expect(report.html).toBe(html);
    expect(report.baseline?.examples).toBe(200);
    expect(report.baseline?.train_examples).toBe(800);
    const page = await readFile(html, 'utf8');
    for (const label of ['earn', 'acq', 'crude', 'trade', 'money-fx', 'interest'])
      expect(page).toContain(`>${label}<`);
    expect(page).toContain('class="heatmap"');
    expect(page).toContain('class="bar-chart"');
    expect(page.match(/class="line-chart"/g)).toHaveLength(2); // loss, accuracy
    expect(page).toContain('TF-IDF + logistic regression');
    expect(page).not.toMatch(/<script|<link|src=|url\(/); // nothing to fetch
  }, 120_000);

  it('a language model gets loss and perplexity curves, an MoE model each layer’s expert load', () => {
    const page = lmPage();
    expect(page).toContain('Perplexity');
    expect(page).toContain('Expert load, block0/ffn');
    expect(page).toContain('Expert load, block1/ffn');
    expect(page).not.toContain('class="heatmap"');
  });

  it.skipIf(!haveChromium && !process.env.CI)(
    'renders in headless Chromium: every chart drawn, no console error, no network request',
    async () => {
      const pages = {classifier: join(root, 'report.html'), lm: join(root, 'lm.html')};
      if (!existsSync(pages.classifier)) throw new Error('the first test writes report.html');
      await writeFile(pages.lm, lmPage());
      const profile = await mkdtemp(join(tmpdir(), 'dsk-chromium-'));
      const browser = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        viewport: {width: 1240, height: 900},
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--no-first-run',
          '--disable-background-networking',
        ],
      });
      try {
        for (const file of Object.values(pages)) {
          const page = await browser.newPage();
          const problems: string[] = [];
          const requests: string[] = [];
          page.on('console', (m) => {
            if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text());
          });
          page.on('pageerror', (e) => problems.push(e.message));
          page.on('request', (r) => requests.push(r.url()));
          await page.goto(`file://${file}`);
          const sizes = await page.$$eval('svg', (svgs) =>
            svgs.map((s) => {
              const box = s.getBoundingClientRect();
              const marks = s.querySelectorAll('polyline, rect.cell, rect.bar').length;
              return {kind: s.getAttribute('class'), width: box.width, height: box.height, marks};
            }),
          );
          expect(problems).toEqual([]);
          expect(requests).toEqual([`file://${file}`]); // the page itself, nothing else
          expect(sizes.length).toBeGreaterThanOrEqual(4);
          for (const s of sizes) {
            expect(s.width).toBeGreaterThan(100);
            expect(s.height).toBeGreaterThan(100);
            expect(s.marks).toBeGreaterThan(0);
          }
          await page.close();
        }
      } finally {
        await browser.close();
        await rm(profile, {recursive: true, force: true});
      }
    },
    60_000,
  );
});
