// npm run bench:onnx [-- --json]: ONNX Runtime (onnxruntime-node, CPU, default session options)
// against the kit's own tfjs-node inference on the same models (seeded random weights: speed
// depends on shapes only).
// - Classifiers (presets small, small with an MoE FFN, bag; 256 texts in batches of 64):
//   rows/s of `model.predict` and of the ONNX graph, float32 and int8 (both kernels), MoE as a
//   dense and a sparse graph.
// - Causal LMs (presets small and small-moe, and bench:train's moe-lm): greedy decoding of 64 new
//   tokens after a 32-token prompt, ms per token with the kit's KV-cached decoder and with the ONNX
//   past key/values; the prompt's prefill in ms; whether the tokens equal the kit's.
// - int8 accuracy: the IMDB bag-of-words MLP of bench:compress, test accuracy of the kit's float32
//   and int8 models and of the ONNX graphs (ONNX Runtime defaults).
// Cases of one model run in turn for every repeat (rotating the order, a pause between cases), so
// machine load hits them alike; the median repeat is printed, with the load average.
import {loadavg} from 'node:os';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import {
  buildCausalLM,
  buildClassifier,
  CAUSAL_LM_PRESETS,
  CachedDecoder,
  type CausalLMConfig,
  CLASSIFIER_PRESETS,
  type ClassifierConfig,
  DEFAULT_CAUSAL_LM_CONFIG,
  DEFAULT_CLASSIFIER_CONFIG,
  initBackend,
  type ModelToOnnxOptions,
  modelToOnnx,
  quantizeModel,
} from '../src/index.js';
import {withSeededRandom} from '../src/train/seeded-random.js';
import {accuracyPercent, trainImdbBow} from '../test/compress/imdb-bow.js';
import {emptyPast, idsTensor, onnxGreedy} from '../test/onnx/ort.js';
import {printRows, type Row} from './report.js';

const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);
const ROWS = 256;
const BATCH = 64;
const PROMPT = 32;
const NEW_TOKENS = 64;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const load = () => Number(loadavg()[0]!.toFixed(2));

interface Case {
  name: string;
  /** One measured run: returns the figure (lower is better for ms, the caller names it). */
  run: () => Promise<number>;
}

/** Both runtimes' worker threads spin for a while after a run: let them go idle between cases. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 250));

/**
 * Runs every case once per repeat, in turn, starting one case later each repeat (so no case always
 * follows the same one); the median of each.
 */
async function measure(cases: Case[]): Promise<Map<string, number>> {
  for (const c of cases) await c.run(); // warm-up
  const times = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (let r = 0; r < REPEATS; r++) {
    for (let i = 0; i < cases.length; i++) {
      const c = cases[(i + r) % cases.length]!;
      await settle();
      times.get(c.name)!.push(await c.run());
    }
  }
  return new Map([...times].map(([name, xs]) => [name, median(xs)]));
}

const session = (model: tf.LayersModel, options: ModelToOnnxOptions) => {
  const {bytes, report} = modelToOnnx(model, options);
  return ort.InferenceSession.create(bytes).then((s) => ({s, bytes: report.weight_bytes}));
};

async function classifiers(): Promise<Row[]> {
  const rows: Row[] = [];
  const presets: [string, Partial<ClassifierConfig>][] = [
    ['small', CLASSIFIER_PRESETS.small!],
    ['small + MoE (4 experts, top-2, 1 shared)', {...CLASSIFIER_PRESETS.small, ffn: 'moe'}],
    ['bag', CLASSIFIER_PRESETS.bag!],
  ];
  for (const [name, preset] of presets) {
    const config = {...DEFAULT_CLASSIFIER_CONFIG, ...preset, dropout: 0};
    const model = withSeededRandom(1, () => buildClassifier(config, config.vocabSize, 2));
    const ids = Array.from({length: ROWS}, (_, r) =>
      Array.from({length: config.maxLen}, (_, i) =>
        i < config.maxLen - (r % 5) * 20 ? 6 + ((r * 31 + i * 7) % 3000) : 0,
      ),
    );
    const batches = Array.from({length: ROWS / BATCH}, (_, b) => ids.slice(b * BATCH, (b + 1) * BATCH));
    const timed = async (f: (batch: number[][]) => Promise<void>) => {
      const t0 = performance.now();
      for (const batch of batches) await f(batch);
      return ROWS / ((performance.now() - t0) / 1000);
    };
    const kit: Case = {
      name: 'kit predict (tfjs-node)',
      run: () =>
        timed(async (batch) => {
          const out = tf.tidy(() => model.predict(tf.tensor2d(batch, undefined, 'int32')) as tf.Tensor);
          await out.data();
          out.dispose();
        }),
    };
    const variants: [string, ModelToOnnxOptions][] = [['onnx float32', {}]];
    if (config.ffn === 'moe') variants.push(['onnx float32, sparse MoE', {moe: 'sparse'}]);
    variants.push(
      ['onnx int8 DequantizeLinear', {quantize: 'int8'}],
      ['onnx int8 MatMulInteger', {quantize: 'int8', int8Kernel: 'integer'}],
    );
    const sessions = await Promise.all(variants.map(([, o]) => session(model, o)));
    const cases: Case[] = [
      kit,
      ...variants.map(([label], i) => ({
        name: label,
        run: () =>
          timed(async (batch) => {
            await sessions[i]!.s.run({input_ids: idsTensor(batch)});
          }),
      })),
    ];
    const result = await measure(cases);
    const base = result.get(kit.name)!;
    for (const c of cases) {
      const i = variants.findIndex(([label]) => label === c.name);
      rows.push({
        model: `classifier ${name}`,
        runtime: c.name,
        'rows/s': result.get(c.name)!,
        'vs kit': result.get(c.name)! / base,
        'weight MB': i < 0 ? null : sessions[i]!.bytes / 1e6,
        load: load(),
      });
    }
    model.dispose();
  }
  return rows;
}

/** ms per new token (prefill excluded) and prefill ms of the kit's cached decoder. */
async function kitDecode(model: tf.LayersModel, config: CausalLMConfig, prompt: number[]) {
  const decoder = new CachedDecoder(model, config);
  const ids: number[] = [];
  const argmax = async (logits: tf.Tensor) => {
    const v = (await logits.data()) as Float32Array;
    logits.dispose();
    let best = 0;
    for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
    return best;
  };
  let t0 = performance.now();
  let next = await argmax(decoder.step(prompt));
  const prefill = performance.now() - t0;
  t0 = performance.now();
  for (let i = 0; i < NEW_TOKENS; i++) {
    ids.push(next);
    if (i + 1 < NEW_TOKENS) next = await argmax(decoder.step([next]));
  }
  const perToken = (performance.now() - t0) / (NEW_TOKENS - 1);
  decoder.dispose();
  return {ids, prefill, perToken};
}

async function onnxPrefill(s: ort.InferenceSession, prompt: number[]): Promise<number> {
  const t0 = performance.now();
  await s.run({input_ids: idsTensor([prompt]), ...emptyPast(s, 1)});
  return performance.now() - t0;
}

async function languageModels(): Promise<Row[]> {
  const rows: Row[] = [];
  const presets: [string, Partial<CausalLMConfig>][] = [
    ['small', CAUSAL_LM_PRESETS.small!],
    ['small-moe (8 experts, top-2, 1 shared)', CAUSAL_LM_PRESETS['small-moe']!],
    ['moe-lm (bench:train, d 256, 8 experts of 256)', CAUSAL_LM_PRESETS['moe-lm']!],
  ];
  for (const [name, preset] of presets) {
    const config: CausalLMConfig = {
      ...DEFAULT_CAUSAL_LM_CONFIG,
      ...preset,
      contextLength: Math.max(PROMPT + NEW_TOKENS, preset.contextLength ?? 0),
      dropout: 0,
    };
    const vocab = config.tokenizerKind === 'byte' ? 260 : config.vocabSize;
    const model = withSeededRandom(1, () => buildCausalLM(config, vocab));
    const prompt = Array.from({length: PROMPT}, (_, i) => (i * 37 + 11) % vocab);
    const variants: [string, ModelToOnnxOptions][] = [['onnx float32', {}]];
    if (config.ffn === 'moe') variants.push(['onnx float32, sparse MoE', {moe: 'sparse'}]);
    variants.push(
      ['onnx int8 DequantizeLinear', {quantize: 'int8'}],
      ['onnx int8 MatMulInteger', {quantize: 'int8', int8Kernel: 'integer'}],
    );
    const sessions = await Promise.all(
      variants.map(([, o]) =>
        session(model, {...o, pastKeyValues: true, maxPositions: config.contextLength}),
      ),
    );
    let kitIds: number[] = [];
    const extra = new Map<string, {prefill: number[]; same: boolean}>();
    const cases: Case[] = [
      {
        name: 'kit generate (KV cache, tfjs-node)',
        run: async () => {
          const r = await kitDecode(model, config, prompt);
          kitIds = r.ids;
          const e = extra.get('kit generate (KV cache, tfjs-node)') ?? {prefill: [], same: true};
          e.prefill.push(r.prefill);
          extra.set('kit generate (KV cache, tfjs-node)', e);
          return r.perToken;
        },
      },
      ...variants.map(([label], i) => ({
        name: label,
        run: async () => {
          const s = sessions[i]!.s;
          const prefill = await onnxPrefill(s, prompt);
          const t0 = performance.now();
          const ids = await onnxGreedy(s, prompt, NEW_TOKENS, true);
          const e = extra.get(label) ?? {prefill: [], same: true};
          e.prefill.push(prefill);
          e.same &&= label.includes('int8') || ids.join() === kitIds.join();
          extra.set(label, e);
          // onnxGreedy runs the prompt as its first step too: subtract one prefill.
          return (performance.now() - t0 - prefill) / (NEW_TOKENS - 1);
        },
      })),
    ];
    const result = await measure(cases);
    const base = result.get(cases[0]!.name)!;
    for (const c of cases) {
      const i = variants.findIndex(([label]) => label === c.name);
      const e = extra.get(c.name)!;
      rows.push({
        model: `causal LM ${name}`,
        runtime: c.name,
        'ms/token': result.get(c.name)!,
        'vs kit': base / result.get(c.name)!,
        'prefill ms': median(e.prefill),
        'same tokens': c.name.includes('int8') ? null : e.same,
        'weight MB': i < 0 ? null : sessions[i]!.bytes / 1e6,
        load: load(),
      });
    }
    model.dispose();
  }
  return rows;
}

async function imdbAccuracy(): Promise<Row[]> {
  const bow = await trainImdbBow();
  const x = bow.xTest;
  const features = new ort.Tensor('float32', x.dataSync() as Float32Array, x.shape);
  const onnxAccuracy = async (options: ModelToOnnxOptions) => {
    const {s, bytes} = await session(bow.model, options);
    const logits = (await s.run({features})).logits!.data as Float32Array;
    let correct = 0;
    for (let i = 0; i < bow.yTest.length; i++)
      if ((logits[2 * i + 1]! > logits[2 * i]! ? 1 : 0) === bow.yTest[i]) correct++;
    return {accuracy: (100 * correct) / bow.yTest.length, bytes};
  };
  const kitInt8 = await quantizeModel(bow.model, {dtype: 'int8'});
  const rows: Row[] = [
    {runtime: 'kit float32', 'accuracy %': accuracyPercent(bow.model, x, bow.yTest)},
    {runtime: 'kit int8 per-channel', 'accuracy %': accuracyPercent(kitInt8.model, x, bow.yTest)},
  ];
  kitInt8.model.dispose();
  for (const [label, options] of [
    ['onnx float32', {}],
    ['onnx int8 DequantizeLinear', {quantize: 'int8'}],
    ['onnx int8 MatMulInteger', {quantize: 'int8', int8Kernel: 'integer'}],
  ] as [string, ModelToOnnxOptions][]) {
    const r = await onnxAccuracy(options);
    rows.push({runtime: label, 'accuracy %': r.accuracy, 'weight MB': r.bytes / 1e6});
  }
  bow.dispose();
  return rows.map((r) => ({model: 'IMDB bag-of-words MLP (1,000 test reviews)', ...r}));
}

await initBackend({onWarning: (m) => process.stderr.write(`${m}\n`)});
process.stderr.write(
  `onnxruntime-node ${ort.env.versions.node}, tfjs backend ${tf.getBackend()}, ${REPEATS} repeats\n`,
);
const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7);
const rows = [
  ...(only && only !== 'classifiers' ? [] : await classifiers()),
  ...(only && only !== 'lm' ? [] : await languageModels()),
  ...(only && only !== 'accuracy' ? [] : await imdbAccuracy()),
];
printRows(rows);
