/**
 * docs/report.png, the README's picture of `evaluate --html`: the default text classifier trained on
 * the first 800 rows of fixtures/reuters, evaluated with the baseline on the other 200, and the page's
 * first screen rendered by headless Chromium (/usr/bin/chromium, or CHROMIUM=path).
 *
 *   npx tsx scripts/report-screenshot.ts
 */
import {mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {chromium} from 'playwright-core';
import {initBackend} from '../src/backend/backend.js';
import {evaluateRun} from '../src/workflows/evaluate.js';
import {trainRun} from '../src/workflows/train.js';

const png = resolve('docs/report.png');
const rows = (await readFile('fixtures/reuters/news.jsonl', 'utf8')).trim().split('\n');
const dir = await mkdtemp(join(tmpdir(), 'dsk-report-shot-'));
const home = process.cwd();
try {
  await initBackend();
  // Relative names inside a scratch folder, so the page's heading reads as a user's would.
  process.chdir(dir);
  await writeFile('train.jsonl', rows.slice(0, 800).join('\n'));
  await writeFile('test.jsonl', rows.slice(800).join('\n'));
  await trainRun('classify', {data: 'train.jsonl', out: 'runs/reuters', onInfo: (m) => console.error(m)});
  await evaluateRun({model: 'runs/reuters', data: 'test.jsonl', baseline: true, html: 'report.html'});
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    const page = await browser.newPage({viewport: {width: 1240, height: 900}});
    await page.goto(`file://${join(dir, 'report.html')}`);
    await mkdir(resolve(home, 'docs'), {recursive: true});
    await page.screenshot({path: png});
  } finally {
    await browser.close();
  }
  console.error(`wrote ${png}`);
} finally {
  process.chdir(home);
  await rm(dir, {recursive: true, force: true});
}
