import {readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {trainLanguageModel} from '../../src/models/causal-lm/causal-lm-train.js';
import type {ExportMetadata} from '../../src/models/export-metadata.js';
import {trainFeatureClassifier} from '../../src/models/feature-classifier/feature-classifier-train.js';
import {trainClassifier} from '../../src/models/text-classifier/classifier-train.js';
import {loadRun} from '../../src/run/load-run.js';
import type {LoadedRun} from '../../src/run/run-folder.js';
import {exportRun} from '../../src/workflows/export.js';
import {ROOT} from '../helpers/cli.js';

/** Tiny runs of every model kind the runtime serves, trained for a few steps on the fixtures. */
export const TINY_RUNS = {
  /** WordPiece text classifier with a transformer block. */
  text: 'text',
  /** Numeric-feature classifier on iris. */
  iris: 'iris',
  /** RoPE, tied head, byte-level BPE. */
  lm: 'lm',
  /** Learned positions, MoE, own head, raw bytes: the `moe-lm` preset's shape, small. */
  lmLearned: 'lm-learned',
} as const;

/** More tiny runs, so that the Chromium matrix covers every block the kit builds. */
export const MATRIX_RUNS = {
  /** Text classifier without blocks: the mean of subword embeddings. */
  textBag: 'text-bag',
  /** Text classifier with an MoE FFN. */
  textMoE: 'text-moe',
  /** RoPE with MoE blocks. */
  lmMoE: 'lm-moe',
  /** Learned positions with dense blocks (the `dense-lm` preset's shape, small). */
  lmLearnedDense: 'lm-learned-dense',
} as const;

const MOE = {
  numExperts: 4,
  topK: 2,
  expertHidden: 16,
  numShared: 1,
  scoring: 'softmax',
  normTopK: true,
  auxLossCoef: 0.01,
} as const;
const TEXT = {maxLen: 32, dModel: 16, numHeads: 2, ffnHidden: 32, numLayers: 1, vocabSize: 600};
const COMMON = {batchSize: 8, steps: 8, seed: 3, lr: 3e-3};

const IRIS = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const LM = {contextLength: 48, dModel: 32, numLayers: 2, numHeads: 2, ffnHidden: 64, vocabSize: 400};

/** Trains the tiny runs into `dir` (~10 s on 2 cores). */
export async function trainTinyRuns(dir: string): Promise<void> {
  const reviews = join(dir, 'reviews.jsonl');
  const lines = (await readFile(join(ROOT, 'fixtures/imdb/reviews.jsonl'), 'utf8')).split('\n');
  await writeFile(reviews, `${lines.slice(0, 200).join('\n')}\n`);
  const moby = join(dir, 'moby.txt');
  await writeFile(moby, (await readFile(join(ROOT, 'fixtures/text/moby-dick.txt'), 'utf8')).slice(0, 40_000));
  const common = COMMON;
  await trainClassifier({...common, data: reviews, out: join(dir, TINY_RUNS.text), overrides: TEXT});
  await trainFeatureClassifier({
    ...common,
    steps: 30,
    data: join(ROOT, 'fixtures/tabular/iris.csv'),
    out: join(dir, TINY_RUNS.iris),
    features: IRIS,
    labelField: 'species',
  });
  await trainLanguageModel({...common, data: moby, out: join(dir, TINY_RUNS.lm), overrides: LM});
  await trainLanguageModel({
    ...common,
    data: moby,
    out: join(dir, TINY_RUNS.lmLearned),
    overrides: {
      ...LM,
      positions: 'learned',
      ffn: 'moe',
      tiedHead: false,
      tokenizerKind: 'byte',
      moe: MOE,
    },
  });
}

/** Trains MATRIX_RUNS into `dir`, after trainTinyRuns (it reads the data that one writes); ~8 s. */
export async function trainMatrixRuns(dir: string): Promise<void> {
  const reviews = join(dir, 'reviews.jsonl');
  const moby = join(dir, 'moby.txt');
  await trainClassifier({
    ...COMMON,
    data: reviews,
    out: join(dir, MATRIX_RUNS.textBag),
    overrides: {...TEXT, numLayers: 0, dropout: 0},
  });
  await trainClassifier({
    ...COMMON,
    data: reviews,
    out: join(dir, MATRIX_RUNS.textMoE),
    overrides: {...TEXT, ffn: 'moe', moe: MOE},
  });
  await trainLanguageModel({
    ...COMMON,
    data: moby,
    out: join(dir, MATRIX_RUNS.lmMoE),
    overrides: {...LM, ffn: 'moe', moe: MOE},
  });
  await trainLanguageModel({
    ...COMMON,
    data: moby,
    out: join(dir, MATRIX_RUNS.lmLearnedDense),
    overrides: {...LM, positions: 'learned', tiedHead: false},
  });
}

/** Exports the run in `dir` to `out` (weights as `dtype`) as `deepseek-kit export` does. */
export async function exportTinyRun(
  dir: string,
  out: string,
  dtype: 'none' | 'float16' | 'uint8' | 'int8' | 'int4' = 'none',
): Promise<LoadedRun> {
  await exportRun({model: dir, out, dtype, groupSize: dtype === 'int4' ? 8 : 0});
  return loadRun(dir);
}

/** The runtime metadata an export's model.json carries. */
export async function storedMetadata(folder: string): Promise<ExportMetadata> {
  const json = JSON.parse(await readFile(join(folder, 'model.json'), 'utf8'));
  return json.userDefinedMetadata.deepseek_kit.model;
}
