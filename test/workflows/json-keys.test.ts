import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {encodingName} from '../../src/compress/format-report.js';
import {distill} from '../../src/workflows/distill.js';
import {evaluateRun, formatEvaluation} from '../../src/workflows/evaluate.js';
import {exportRun} from '../../src/workflows/export.js';
import {finetune} from '../../src/workflows/finetune.js';
import {generate} from '../../src/workflows/generate.js';
import {mergeAdapter} from '../../src/workflows/merge.js';
import {predictRun} from '../../src/workflows/predict.js';
import {pruneRun} from '../../src/workflows/prune.js';
import {quantizeRun} from '../../src/workflows/quantize.js';
import {trainRun} from '../../src/workflows/train.js';

// What `--json` prints is the report a workflow returns. Every key is snake_case, except the keys
// of maps keyed by the data (class labels, drop reasons), which are the data's own.
const DATA_KEYED = new Set(['per_class', 'probabilities']);
const SNAKE = /^[a-z0-9]+(_[a-z0-9]+)*$/;

function notSnake(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => notSnake(v, `${path}[${i}]`));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, v]) => [
    ...(SNAKE.test(key) ? [] : [`${path}.${key}`]),
    ...(DATA_KEYED.has(key) ? [] : notSnake(v, `${path}.${key}`)),
  ]);
}

let dir: string;
const reports: Record<string, unknown> = {};

beforeAll(async () => {
  await initBackend();
  dir = await mkdtemp(join(tmpdir(), 'dsk-json-keys-'));
});
afterAll(async () => {
  await rm(dir, {recursive: true, force: true});
});

describe('every model command reports snake_case JSON', () => {
  it('a sigmoid MoE language model through train, evaluate, generate, prune, quantize, export, finetune, merge, distill', async () => {
    const text = join(dir, 'text.txt');
    await writeFile(text, 'the whale and the sea and the ship sailed on. '.repeat(80));
    const lm = join(dir, 'lm');
    const moe = {scoring: 'sigmoid', biasUpdateSpeed: 0.001, numExperts: 4, topK: 2, expertHidden: 32};
    const config = join(dir, 'moe.json');
    await writeFile(config, JSON.stringify({ffn: 'moe', tokenizerKind: 'byte', contextLength: 16, moe}));
    const trained = await trainRun('lm', {data: text, out: lm, preset: 'tiny', configFile: config, steps: 3});
    reports.train = trained;
    const evaluation = await evaluateRun({model: lm, data: text});
    reports.evaluate = evaluation;
    // Counts print as integers, the rest to 4 decimals.
    expect(formatEvaluation(evaluation)).toMatch(/^tokens \d+$/m);
    expect(formatEvaluation(evaluation)).toMatch(/^perplexity \d+\.\d{4}$/m);
    reports.generate = await generate(lm, 'the ', {maxTokens: 3, temperature: 0});
    const pruned = await pruneRun({model: lm, out: join(dir, 'pruned'), method: 'magnitude', sparsity: 0.3});
    reports.prune = pruned;
    // One parameter count everywhere: train and prune agree on a model with a routing bias (state).
    expect(pruned.parameters_before).toBe(trained.parameters);
    const quantized = await quantizeRun({
      model: lm,
      out: join(dir, 'int4'),
      dtype: 'int4',
      groupSize: 32,
      eval: text,
    });
    reports.quantize = quantized;
    expect(encodingName(quantized)).toBe('int4 g32');
    const exported = await exportRun({model: lm, out: join(dir, 'web'), dtype: 'int8', eval: text});
    reports.export = exported;
    const modelJson = JSON.parse(await readFile(join(dir, 'web', 'model.json'), 'utf8'));
    expect(modelJson.userDefinedMetadata.deepseek_kit.model).toMatchObject({
      kind: 'causal-lm',
      output: 'token-logits',
      contextLength: 16,
    });
    const ft = join(dir, 'ft');
    reports.finetune = await finetune({model: lm, data: text, out: ft, steps: 1, merge: true});
    reports.merge = await mergeAdapter({model: lm, adapter: ft, out: join(dir, 'merged')});
    reports.distill = await distill({teacher: lm, data: text, out: join(dir, 'student'), steps: 1});
    for (const [command, report] of Object.entries(reports)) expect(notSnake(report), command).toEqual([]);
  });

  it('a numeric-feature classifier through train, evaluate (per-class keys are labels) and predict', async () => {
    const iris = join(dir, 'iris');
    const features = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
    const train = await trainRun('classify', {
      data: 'fixtures/tabular/iris.csv',
      out: iris,
      features,
      labelField: 'species',
      preset: 'tiny',
      steps: 5,
    });
    const evaluation = await evaluateRun({model: iris, data: 'fixtures/tabular/iris.csv'});
    expect(Object.keys((evaluation as {per_class: object}).per_class)).toContain('setosa');
    const predicted = await predictRun({
      model: iris,
      input: 'fixtures/tabular/iris.csv',
      output: join(dir, 'predicted.csv'),
    });
    for (const report of [train, evaluation, predicted]) expect(notSnake(report)).toEqual([]);
  });
});
