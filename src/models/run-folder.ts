import {randomBytes} from 'node:crypto';
import {mkdir, readdir, readFile, rename, rm, stat, writeFile} from 'node:fs/promises';
import {isAbsolute, join, relative, resolve} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {ConfigError, ModelError} from '../errors.js';
import {loadTokenizer, type Tokenizer} from './tokenizer.js';
// The kit's layer classes register themselves for deserialization when imported.
import '../layers/decoder-block.js';
import '../layers/lora-dense.js';
import '../layers/lora-embedding.js';
import '../layers/rms-norm.js';
import '../layers/token-embedding.js';
import './classifier/masked-mean-pool.js';

/**
 * A run folder: `config.json` (what was trained, how), `model/` (tfjs LayersModel: model.json +
 * weight shards), `tokenizer.json`, `labels.json`, `metrics.jsonl`, `checkpoints/`.
 */
export const RUN_FILES = {
  config: 'config.json',
  model: 'model',
  modelJson: 'model.json',
  tokenizer: 'tokenizer.json',
  labels: 'labels.json',
  metrics: 'metrics.jsonl',
  checkpoints: 'checkpoints',
} as const;

/** What every run's config.json holds; families add their own fields. */
export interface RunConfig {
  /** `classify` or `lm`: which loader reads the run. */
  task: string;
  [key: string]: unknown;
}

export interface LoadedRun {
  dir: string;
  config: RunConfig;
  model: tf.LayersModel;
  tokenizer?: Tokenizer;
  labels?: string[];
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

/** Writes `content` to `path` through a temporary file and a rename: readers never see half a file. */
export async function writeFileAtomic(path: string, content: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, content);
  await rename(tmp, path);
}

/**
 * Makes `dir` ready for a new run or a resumed one. A folder that already holds files is refused
 * unless `overwrite` (emptied first) or `resume` (its config.json must match `config`, key by key).
 * Call it only after the inputs were validated, so that bad input never leaves a folder behind.
 */
/**
 * Fails fast (before any data is read or tokenizer trained) when `dir` holds files and neither
 * `overwrite` nor `resume` is set, or when `resume` has nothing to continue.
 */
export async function checkRunFolderUsable(
  dir: string,
  options: {overwrite?: boolean; resume?: boolean} = {},
): Promise<void> {
  const entries = await readdir(dir).catch(() => null);
  const occupied = entries !== null && entries.length > 0;
  if (options.resume && !occupied) {
    throw new ModelError(`${dir}: nothing to resume (no run folder)`, 'drop --resume to start a new run');
  }
  if (occupied && !options.resume && !options.overwrite) {
    const what = entries.includes(RUN_FILES.config) ? 'another run' : 'files';
    throw new ModelError(
      `output folder ${dir} already holds ${what}`,
      'pass --resume to continue it or --overwrite to replace it',
    );
  }
}

export async function prepareRunFolder(
  dir: string,
  config: RunConfig,
  options: {overwrite?: boolean; resume?: boolean} = {},
): Promise<void> {
  const entries = await readdir(dir).catch(() => null);
  const occupied = entries !== null && entries.length > 0;
  if (options.resume) {
    if (!occupied)
      throw new ModelError(`${dir}: nothing to resume (no run folder)`, 'drop --resume to start a new run');
    const previous = await readRunConfig(dir);
    const change = firstDifference(previous, config);
    if (change !== undefined) {
      throw new ConfigError(
        `${dir}: cannot resume, ${change} differs from the run's config.json`,
        'use the settings of the original run, or --overwrite to start over',
      );
    }
    return;
  }
  if (occupied) {
    if (!options.overwrite) {
      const what = entries.includes(RUN_FILES.config) ? 'another run' : 'files';
      throw new ModelError(
        `output folder ${dir} already holds ${what}`,
        'pass --resume to continue it or --overwrite to replace it',
      );
    }
    await rm(dir, {recursive: true, force: true});
  }
  await mkdir(dir, {recursive: true});
  await writeFileAtomic(join(dir, RUN_FILES.config), `${JSON.stringify(config, null, 2)}\n`);
}

/** The path of the first setting that differs (`model.dModel`), or undefined when equal. */
export function firstDifference(a: unknown, b: unknown, path = ''): string | undefined {
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) {
      const d = firstDifference(
        (a as Record<string, unknown>)[key],
        (b as Record<string, unknown>)[key],
        path ? `${path}.${key}` : key,
      );
      if (d !== undefined) return d;
    }
    return undefined;
  }
  return a === b ? undefined : path || '(value)';
}

/** Saves the model, tokenizer and labels of a trained run (each written atomically). */
export async function saveRunArtifacts(
  dir: string,
  artifacts: {model?: tf.LayersModel; tokenizer?: Tokenizer; labels?: readonly string[]},
): Promise<void> {
  if (artifacts.model) await saveLayersModel(artifacts.model, join(dir, RUN_FILES.model));
  if (artifacts.tokenizer) {
    await writeFileAtomic(join(dir, RUN_FILES.tokenizer), JSON.stringify(artifacts.tokenizer.toJSON()));
  }
  if (artifacts.labels) {
    await writeFileAtomic(join(dir, RUN_FILES.labels), `${JSON.stringify(artifacts.labels)}\n`);
  }
}

/** Bytes per weight shard file (tfjs's converter default). */
const SHARD_BYTES = 4 * 1024 * 1024;

function joinWeightData(data: tf.io.WeightData | undefined): Uint8Array {
  const parts = data === undefined ? [] : Array.isArray(data) ? data : [data];
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), offset);
    offset += p.byteLength;
  }
  return out;
}

/**
 * Saves a LayersModel as `model.json` + `group1-shardNofM.bin` in `modelDir` through a plain file
 * IOHandler (tfjs's `file://` handler exists only with tfjs-node). Written into a temporary folder
 * that replaces `modelDir` by rename, so a crash leaves the old model or the new one, never a mix.
 */
export async function saveLayersModel(model: tf.LayersModel, modelDir: string): Promise<void> {
  const tmp = `${modelDir}.tmp-${randomBytes(4).toString('hex')}`;
  await mkdir(tmp, {recursive: true});
  try {
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const bytes = joinWeightData(artifacts.weightData);
        const count = Math.max(1, Math.ceil(bytes.byteLength / SHARD_BYTES));
        const paths: string[] = [];
        for (let i = 0; i < count; i++) {
          const name = `group1-shard${i + 1}of${count}.bin`;
          paths.push(name);
          await writeFile(join(tmp, name), bytes.subarray(i * SHARD_BYTES, (i + 1) * SHARD_BYTES));
        }
        const modelJson = {
          format: 'layers-model',
          generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
          convertedBy: null,
          modelTopology: artifacts.modelTopology,
          weightsManifest: [{paths, weights: artifacts.weightSpecs ?? []}],
        };
        await writeFile(join(tmp, RUN_FILES.modelJson), JSON.stringify(modelJson));
        return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
      }),
    );
    await rm(modelDir, {recursive: true, force: true});
    await rename(tmp, modelDir);
  } catch (err) {
    await rm(tmp, {recursive: true, force: true});
    throw err;
  }
}

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ModelError(
      `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ModelError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
}

/** A weight path from model.json, resolved inside `modelDir`; anything that escapes it is refused. */
function insidePath(modelDir: string, path: unknown, modelJson: string): string {
  if (typeof path !== 'string' || path === '')
    throw new ModelError(`${modelJson}: a weight path is not a file name`);
  const full = resolve(modelDir, path);
  const rel = relative(resolve(modelDir), full);
  if (isAbsolute(path) || rel.startsWith('..') || isAbsolute(rel) || /^[a-z]+:\/\//i.test(path)) {
    throw new ModelError(
      `${modelJson}: weight path "${path}" points outside the model folder`,
      'refusing to read it',
    );
  }
  return full;
}

/** Loads a LayersModel saved by `saveLayersModel` (or tfjs's converter) from `modelDir`, on any backend. */
export async function loadLayersModel(modelDir: string): Promise<tf.LayersModel> {
  const jsonPath = join(modelDir, RUN_FILES.modelJson);
  const json = (await readJson(jsonPath, 'model')) as {
    modelTopology?: object;
    weightsManifest?: {paths?: unknown[]; weights?: tf.io.WeightsManifestEntry[]}[];
  };
  if (
    typeof json !== 'object' ||
    json === null ||
    !json.modelTopology ||
    !Array.isArray(json.weightsManifest)
  ) {
    throw new ModelError(`${jsonPath} is not a tfjs layers model (no modelTopology or weightsManifest)`);
  }
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Uint8Array[] = [];
  for (const group of json.weightsManifest) {
    weightSpecs.push(...(group.weights ?? []));
    for (const p of group.paths ?? []) {
      const file = insidePath(modelDir, p, jsonPath);
      try {
        buffers.push(await readFile(file));
      } catch (err) {
        throw new ModelError(
          `missing weight shard ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
          'the model folder is incomplete; copy the whole folder',
        );
      }
    }
  }
  const weightData = joinWeightData(
    buffers.map((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer),
  );
  try {
    return await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs,
        weightData: weightData.buffer as ArrayBuffer,
      }),
    );
  } catch (err) {
    throw new ModelError(`cannot load the model in ${modelDir}: ${(err as Error).message}`);
  }
}

/** Reads config.json of a run folder; a missing folder or file is a ModelError that says so. */
export async function readRunConfig(dir: string): Promise<RunConfig> {
  if (!(await exists(dir)))
    throw new ModelError(`no run folder at ${dir}`, 'pass the --out folder of a train run');
  const config = (await readJson(join(dir, RUN_FILES.config), 'run config')) as RunConfig;
  if (typeof config !== 'object' || config === null || typeof config.task !== 'string') {
    throw new ModelError(`${join(dir, RUN_FILES.config)}: no "task" field — not a deepseek-kit run`);
  }
  return config;
}

/** Loads a run folder: config, model, and the tokenizer and labels when the run has them. */
export async function loadRun(dir: string): Promise<LoadedRun> {
  const config = await readRunConfig(dir);
  const modelDir = join(dir, RUN_FILES.model);
  if (!(await exists(join(modelDir, RUN_FILES.modelJson)))) {
    throw new ModelError(
      `${dir} has no trained model (${modelDir}/model.json)`,
      'the run did not finish; train it again or --resume it',
    );
  }
  const model = await loadLayersModel(modelDir);
  const tokenizerPath = join(dir, RUN_FILES.tokenizer);
  const tokenizer = (await exists(tokenizerPath)) ? await loadTokenizer(tokenizerPath) : undefined;
  const labelsPath = join(dir, RUN_FILES.labels);
  let labels: string[] | undefined;
  if (await exists(labelsPath)) {
    const raw = await readJson(labelsPath, 'labels');
    if (!Array.isArray(raw) || !raw.every((l) => typeof l === 'string')) {
      model.dispose();
      throw new ModelError(`${labelsPath}: expected a JSON array of label strings`);
    }
    labels = raw;
  }
  return {dir, config, model, tokenizer, labels};
}
