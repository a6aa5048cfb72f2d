// npm run bench:infer-captured [-- --repeats 3] [-- --json]: what GraphForward (the forward pass
// captured as one TensorFlow function, src/train/graph-forward.ts) buys the library's batch
// inference: `classifyTexts` (predict, evaluate and serve of text classifiers) on the 1,000 IMDB test
// reviews at batch 64, and `scoreStream` (evaluate and perplexity of language models) on the first
// 256 KB of Moby-Dick at batch 16 x 128. Each is timed op by op (DSK_GRAPH_FORWARD=0) and captured
// (the default on tfjs-node), alternating in one process --repeats times, so machine load hits both
// alike; rows/s (tokens/s for the LM) from the median, and the ratio. The captured timings include
// the passes before the replay (the first full batch runs, the next two are recorded) and a ragged
// last batch, which runs op by op: it is what a call costs. Models at initial weights (speed does
// not depend on the values): the classifier presets `tiny`, `small` and `fasttext` over a byte
// tokenizer, and bench:train's dense-lm and moe-lm (moe-lm stays op by op while its routing reads
// back; the `captured` column says).
import {readFile} from 'node:fs/promises';
import {loadavg} from 'node:os';
import * as tf from '@tensorflow/tfjs';
import {initBackend} from '../src/backend/backend.js';
import {scoreStream} from '../src/models/causal-lm/causal-lm-evaluate.js';
import {
  buildClassifier,
  CLASSIFIER_PRESETS,
  type ClassifierConfig,
  classifyTexts,
  DEFAULT_CLASSIFIER_CONFIG,
} from '../src/models/text-classifier/classifier.js';
import {ByteTokenizer} from '../src/tokenizer/byte-tokenizer.js';
import {buildStandardLM, type ConfigName, flag, median, mobyDickBytes} from './lm-setup.js';
import {printRows, type Row} from './report.js';

const REPEATS = Number(flag('repeats') ?? 3);

/** Median ms of `op` (DSK_GRAPH_FORWARD=0) and `captured` runs of `fn`, alternated; the notices. */
async function abMs(fn: (onInfo: (m: string) => void) => Promise<unknown>) {
  const ms = {op: [] as number[], captured: [] as number[]};
  const notices: string[] = [];
  const loads: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    for (const mode of ['op', 'captured'] as const) {
      if (mode === 'op') process.env.DSK_GRAPH_FORWARD = '0';
      else delete process.env.DSK_GRAPH_FORWARD;
      const t0 = performance.now();
      await fn((m) => notices.push(m));
      ms[mode].push(performance.now() - t0);
      loads.push(loadavg()[0]!);
    }
  }
  delete process.env.DSK_GRAPH_FORWARD;
  return {
    op: median(ms.op),
    captured: median(ms.captured),
    notice: [...new Set(notices)].join('; '),
    load: `${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`,
  };
}

await initBackend({onWarning: (m) => process.stderr.write(`${m}\n`)});
const rows: Row[] = [];
const tokenizer = new ByteTokenizer();
const reviews = (await readFile(new URL('../fixtures/imdb/test.jsonl', import.meta.url), 'utf8'))
  .trim()
  .split('\n')
  .map((line) => (JSON.parse(line) as {text: string}).text);
for (const preset of ['tiny', 'small', 'fasttext']) {
  const config: ClassifierConfig = {
    ...DEFAULT_CLASSIFIER_CONFIG,
    ...CLASSIFIER_PRESETS[preset],
    vocabSize: tokenizer.vocabSize,
  };
  const model = buildClassifier(config, tokenizer.vocabSize, 2);
  const run = {model, tokenizer, labels: ['neg', 'pos'], config};
  const t = await abMs((onInfo) => classifyTexts(run, reviews, 64, {onInfo}));
  model.dispose();
  const rate = (ms: number) => (reviews.length * 1000) / ms;
  rows.push({
    model: `classifier ${preset} (maxLen ${config.maxLen})`,
    call: 'classifyTexts, 1000 rows, batch 64',
    op_rows_s: rate(t.op),
    captured_rows_s: rate(t.captured),
    captured_vs_op: t.op / t.captured,
    captured: t.notice === '' ? 'yes' : `no: ${t.notice}`,
    load: t.load,
  });
  process.stderr.write(
    `${rows.at(-1)!.model}: ${t.op.toFixed(0)} ms op by op, ${t.captured.toFixed(0)} ms captured\n`,
  );
}
const text = (await mobyDickBytes()).subarray(0, 256 * 1024);
for (const name of ['dense-lm', 'moe-lm'] as ConfigName[]) {
  const {model, config} = buildStandardLM(name);
  const t = await abMs((onInfo) => scoreStream({model, config}, text, 16, onInfo));
  model.dispose();
  const rate = (ms: number) => (text.length * 1000) / ms;
  rows.push({
    model: name,
    call: 'scoreStream, 256 KB, batch 16 x 128',
    op_rows_s: rate(t.op),
    captured_rows_s: rate(t.captured),
    captured_vs_op: t.op / t.captured,
    captured: t.notice === '' ? 'yes' : `no: ${t.notice}`,
    load: t.load,
  });
  process.stderr.write(`${name}: ${t.op.toFixed(0)} ms op by op, ${t.captured.toFixed(0)} ms captured\n`);
}
process.stderr.write(`(LM rows are tokens/s; ${tf.memory().numTensors} tensors left)\n`);
printRows(rows);
