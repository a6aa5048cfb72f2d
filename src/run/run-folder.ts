import {randomBytes} from 'node:crypto';
import {mkdir, readdir, rename, stat, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import {loadModelFolder, modelFolderHandler} from '../compress/model-folder.js';
import {ConfigError, ModelError, printable} from '../errors.js';
import {ContainmentError, containedFileExists, FILE_LIMITS, readContainedJson} from '../fs/contained-file.js';
import {type Tokenizer, tokenizerFromJSON} from '../tokenizer/tokenizer.js';
import type {TokenizerJson} from '../tokenizer/tokenizer-json.js';
import {checkTokenizerJson} from './check-run.js';
import {clearRunFolder} from './replaced-run.js';
// The kit's layer classes register themselves for deserialization when imported.
import '../layers/decoder-block.js';
import '../layers/lora-dense.js';
import '../layers/lora-embedding.js';
import '../layers/rms-norm.js';
import '../layers/token-embedding.js';
import '../layers/masked-mean-pool.js';
import {listCheckpoints} from '../train/checkpoint.js';

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

export const pathExists = (path: string) =>
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
  if (options.resume && !options.overwrite) await checkResumable(dir);
  if (occupied && !options.resume && !options.overwrite) {
    const what = entries.includes(RUN_FILES.config) ? 'another run' : 'files';
    // A finished run has model/ (merge and quantize write no checkpoints); a killed one has neither.
    const unfinished = !entries.includes(RUN_FILES.model) && (await listCheckpoints(dir)).length === 0;
    if (what === 'another run' && unfinished) {
      throw new ModelError(
        `output folder ${dir} holds a run that stopped before its first checkpoint`,
        'there is nothing to resume: pass --overwrite to start it again',
      );
    }
    throw new ModelError(
      `output folder ${dir} already holds ${what}`,
      'pass --resume to continue it or --overwrite to replace it',
    );
  }
}

/**
 * A run stopped (killed) before its first checkpoint has nothing to resume: say so, and what works
 * (--overwrite), instead of sending the user back to "train without --resume first".
 */
async function checkResumable(dir: string): Promise<void> {
  if ((await listCheckpoints(dir)).length > 0) return;
  throw new ModelError(
    `${dir}: nothing to resume, the run stopped before its first checkpoint`,
    'start it again with --overwrite instead of --resume',
  );
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
    // Moved aside until the job writing the run ends (replaced-run.ts), so a failure restores it.
    await clearRunFolder(dir);
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

/** Writes a plain run folder (config, model, tokenizer, labels), replacing what is there. */
export async function writePlainRun(
  dir: string,
  config: RunConfig,
  model: tf.LayersModel,
  assets: {tokenizer?: Tokenizer; labels?: readonly string[]},
): Promise<void> {
  await prepareRunFolder(dir, config, {overwrite: true});
  await saveRunArtifacts(dir, {model, tokenizer: assets.tokenizer, labels: assets.labels});
}

/**
 * Saves a LayersModel as `model.json` + `group1-shardNofM.bin` (≤ 4 MB each) in `modelDir` on any
 * backend, replacing the folder atomically (see `writeModelFolder`).
 */
export async function saveLayersModel(model: tf.LayersModel, modelDir: string): Promise<void> {
  await model.save(modelFolderHandler(modelDir));
}

/** A JSON file of a run folder, read under the containment rule (contained-file.ts). */
async function readRunJson(dir: string, name: string, what: string, maxBytes: number = FILE_LIMITS.json) {
  return readContainedJson(dir, name, {maxBytes, what});
}

/**
 * Loads the LayersModel in `modelDir` on any backend: strict about paths that leave `root` (default
 * the model folder; the run folder for a run's `model/`), special files, missing shards, bad JSON
 * and manifests asking for more than the shards hold, and decodes the kit's per-channel int8/int4
 * weights (`quantize`).
 */
export async function loadLayersModel(modelDir: string, root = modelDir): Promise<tf.LayersModel> {
  return loadModelFolder(modelDir, root);
}

/** Reads config.json of a run folder; a missing folder or file is a ModelError that says so. */
export async function readRunConfig(dir: string): Promise<RunConfig> {
  if (!(await pathExists(dir)))
    throw new ModelError(`no run folder at ${dir}`, 'pass the --out folder of a train run');
  let config: RunConfig;
  try {
    config = (await readRunJson(dir, RUN_FILES.config, 'run config')) as RunConfig;
  } catch (err) {
    if (err instanceof ContainmentError && err.missing) {
      throw new ModelError(
        `cannot read run config ${join(dir, RUN_FILES.config)}: ENOENT`,
        'pass the --out folder of a train run',
      );
    }
    throw err;
  }
  if (typeof config !== 'object' || config === null || typeof config.task !== 'string') {
    throw new ModelError(`${join(dir, RUN_FILES.config)}: no "task" field — not a deepseek-kit run`);
  }
  return config;
}

/** The tokenizer.json `name` of a run or export folder, read under the containment rule and checked. */
export async function readFolderTokenizer(dir: string, name: string): Promise<Tokenizer> {
  const json = await readRunJson(dir, name, 'tokenizer', FILE_LIMITS.tokenizer);
  const source = join(dir, name);
  checkTokenizerJson(source, json);
  try {
    return tokenizerFromJSON(json as TokenizerJson, source);
  } catch (err) {
    if (err instanceof ModelError) throw err;
    throw new ModelError(
      `${source}: not a tokenizer the kit can load (${printable((err as Error).message, 160)})`,
      'copy the tokenizer.json the run was trained with',
    );
  }
}

/** The tokenizer and labels of a run folder, where it has them (each read under the containment rule). */
export async function loadRunAssets(dir: string): Promise<{tokenizer?: Tokenizer; labels?: string[]}> {
  const tokenizer = (await containedFileExists(dir, RUN_FILES.tokenizer))
    ? await readFolderTokenizer(dir, RUN_FILES.tokenizer)
    : undefined;
  const labelsPath = join(dir, RUN_FILES.labels);
  let labels: string[] | undefined;
  if (await containedFileExists(dir, RUN_FILES.labels)) {
    const raw = await readRunJson(dir, RUN_FILES.labels, 'labels');
    if (!Array.isArray(raw) || raw.length === 0 || !raw.every((l) => typeof l === 'string')) {
      throw new ModelError(`${labelsPath}: expected a non-empty JSON array of label strings`);
    }
    if (new Set(raw).size !== raw.length) {
      throw new ModelError(`${labelsPath}: a label is listed twice`, 'each class has one label');
    }
    labels = raw;
  }
  return {tokenizer, labels};
}
