// npx tsx bench/train-capture.ts [--preset small] [--rounds 3] [--steps 12] [--json]: steps/s of the
// text classifier's preset (dropout 0.1 unless the preset says otherwise) trained by `train` with
// DSK_GRAPH_STEP=0 (op by op) and unset (steps captured and replayed, src/train/graph-step.ts),
// alternated in rounds in one process from the same initial weights: 32 rows of random token ids
// (lengths 64..maxLen) per batch, 3 labels, AdamW, clip 1; 5 warm-up steps, then the median step of
// `--steps`, the loss read back after each. Then which training features capture: each one a short
// run of the `tiny` preset, with the capture's report (replayed / op by op, and why).
import {loadavg} from 'node:os';
import * as tf from '@tensorflow/tfjs';
import {initBackend} from '../src/backend/backend.js';
import {QuantAwareTraining} from '../src/compress/qat.js';
import {Rng} from '../src/data/rng.js';
import {applyLoRA} from '../src/lora/lora-model.js';
import {classifierLoss} from '../src/models/classify/classifier-training.js';
import {
  buildClassifier,
  CLASSIFIER_HEAD,
  CLASSIFIER_PRESETS,
  type ClassifierConfig,
  DEFAULT_CLASSIFIER_CONFIG,
} from '../src/models/text-classifier/classifier.js';
import {arrayBatchSource, type BatchSource} from '../src/train/batch-source.js';
import {distillationLoss} from '../src/train/distill-loss.js';
import {accuracy} from '../src/train/losses.js';
import {trainableFromLayersModel} from '../src/train/trainable.js';
import {type LossFn, type TrainOptions, train} from '../src/train/trainer.js';
import {DEFAULT_LORA_TARGETS} from '../src/workflows/finetune-options.js';
import {flag, median} from './lm-setup.js';
import {printRows, type Row} from './report.js';

const preset = flag('preset') ?? 'small';
const rounds = Number(flag('rounds') ?? 3);
const steps = Number(flag('steps') ?? 12);
const WARMUP = 5;
const BATCH = 32;
const LABELS = 3;

await initBackend({});
const configOf = (name: string): ClassifierConfig => ({
  ...DEFAULT_CLASSIFIER_CONFIG,
  ...CLASSIFIER_PRESETS[name],
});

/** `n` rows of random ids, padded at the end; with `teacher`, random teacher logits as a second input. */
function data(config: ClassifierConfig, n: number, teacher = false): BatchSource {
  const rng = new Rng(3);
  const rows = Array.from({length: n}, (_, i) => {
    const length = 64 + Math.floor(rng.next() * (config.maxLen - 64));
    const ids = Array.from({length: config.maxLen}, (_, t) =>
      t < length ? 1 + Math.floor(rng.next() * (config.vocabSize - 1)) : 0,
    );
    return {ids, label: i % LABELS, logits: [rng.next(), rng.next(), rng.next()]};
  });
  return arrayBatchSource(rows, {
    batchSize: BATCH,
    seed: 1,
    collate: (rs) => {
      const ids = tf.tensor2d(
        rs.map((r) => r.ids),
        [rs.length, config.maxLen],
        'int32',
      );
      const targets = tf.tensor1d(
        rs.map((r) => r.label),
        'int32',
      );
      return {inputs: teacher ? [ids, tf.tensor2d(rs.map((r) => r.logits))] : ids, targets};
    },
  });
}

interface Run {
  ms: number;
  report: string;
  warnings: string[];
}

/** Trains `model` for `total` steps; the median ms of the steps after WARMUP and the capture's report. */
async function timed(
  model: tf.LayersModel,
  loss: LossFn,
  options: Partial<TrainOptions> & {data: BatchSource},
  total: number,
): Promise<Run> {
  const stamps: number[] = [];
  const warnings: string[] = [];
  const result = await train({
    model: trainableFromLayersModel(model),
    loss,
    steps: total,
    lr: 1e-3,
    clipNorm: 1,
    logEvery: 1,
    ...options,
    onStep: () => stamps.push(performance.now()),
    onWarning: (w) => warnings.push(w),
  });
  const gaps = stamps.slice(WARMUP).map((t, i) => t - stamps[WARMUP - 1 + i]!);
  const g = result.graphSteps;
  const report = g ? `${g.replayed} replayed, ${g.eager} op by op${g.reason ? ` (${g.reason})` : ''}` : 'off';
  return {ms: median(gaps), report, warnings};
}

// Speed: the preset, op by op vs captured, alternated.
const config = configOf(preset);
const model = buildClassifier(config, config.vocabSize, LABELS);
const initial = model.getWeights().map((w) => tf.clone(w));
const source = data(config, BATCH * (WARMUP + steps));
const ms: Record<'0' | '1', number[]> = {'0': [], '1': []};
const reports: Record<string, string> = {};
for (let r = 0; r < rounds; r++) {
  for (const mode of r % 2 === 0 ? (['0', '1'] as const) : (['1', '0'] as const)) {
    model.setWeights(initial);
    // Read when `train` starts: '0' runs op by op, unset captures.
    if (mode === '0') process.env.DSK_GRAPH_STEP = '0';
    else delete process.env.DSK_GRAPH_STEP;
    const run = await timed(model, classifierLoss(model), {data: source}, WARMUP + steps);
    ms[mode].push(run.ms);
    reports[mode] = run.report;
  }
}
delete process.env.DSK_GRAPH_STEP;
const load = loadavg()[0]!.toFixed(2);
const eagerMs = median(ms['0']);
const capturedMs = median(ms['1']);
const rows: Row[] = [
  {
    preset,
    dropout: config.dropout,
    mode: 'DSK_GRAPH_STEP=0',
    ms_per_step: eagerMs,
    steps_per_s: 1000 / eagerMs,
    capture: reports['0']!,
    load,
  },
  {
    preset,
    dropout: config.dropout,
    mode: 'captured',
    ms_per_step: capturedMs,
    steps_per_s: 1000 / capturedMs,
    capture: reports['1']!,
    load,
  },
];
printRows(rows);
process.stdout.write(`captured / op by op: ${(eagerMs / capturedMs).toFixed(2)}x steps/s\n\n`);
tf.dispose(initial);
model.dispose();

// Features: which ones capture, on the tiny preset.
const tiny = configOf('tiny');
const features: Array<
  [
    string,
    () => {
      model: tf.LayersModel;
      loss: LossFn;
      options: Partial<TrainOptions> & {data: BatchSource};
      done?: () => void;
    },
  ]
> = [
  [
    'dropout',
    () => {
      const m = buildClassifier(tiny, tiny.vocabSize, LABELS);
      return {model: m, loss: classifierLoss(m), options: {data: data(tiny, BATCH * 8)}};
    },
  ],
  [
    'gradient accumulation (2)',
    () => {
      const m = buildClassifier(tiny, tiny.vocabSize, LABELS);
      return {model: m, loss: classifierLoss(m), options: {data: data(tiny, BATCH * 16), gradAccum: 2}};
    },
  ],
  [
    'LoRA fine-tune',
    () => {
      const base = buildClassifier(tiny, tiny.vocabSize, LABELS);
      const m = applyLoRA(base, {targets: DEFAULT_LORA_TARGETS, rank: 4, alpha: 8, dropout: 0.05}).model;
      m.getLayer(CLASSIFIER_HEAD).trainable = true;
      return {model: m, loss: classifierLoss(m), options: {data: data(tiny, BATCH * 8)}};
    },
  ],
  [
    'distillation loss',
    () => {
      const m = buildClassifier(tiny, tiny.vocabSize, LABELS);
      const loss: LossFn = (batch, ctx) => {
        const [ids, teacher] = batch.inputs as tf.Tensor[];
        const logits = m.apply(ids!, {training: ctx.training}) as tf.Tensor;
        return {
          loss: distillationLoss(logits, teacher!, batch.targets),
          metrics: {acc: accuracy(logits, batch.targets)},
        };
      };
      return {model: m, loss, options: {data: data(tiny, BATCH * 8, true)}};
    },
  ],
  [
    'QAT int8 (beforeUpdate hook)',
    () => {
      const m = buildClassifier(tiny, tiny.vocabSize, LABELS);
      const qat = new QuantAwareTraining(m, {dtype: 'int8'});
      return {model: m, loss: classifierLoss(m), options: {data: data(tiny, BATCH * 8), hooks: [qat.hook]}};
    },
  ],
];
const featureRows: Row[] = [];
for (const [name, make] of features) {
  const {model: m, loss, options} = make();
  const run = await timed(m, loss, options, 8);
  featureRows.push({feature: name, ms_per_step: run.ms, capture: run.report, load: loadavg()[0]!.toFixed(2)});
  m.dispose();
}
printRows(featureRows);
