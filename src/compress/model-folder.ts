import {stat, writeFile} from 'node:fs/promises';
import {join, relative} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {ModelError, printable} from '../errors.js';
import {
  ContainmentError,
  containedFile,
  FILE_LIMITS,
  readContainedFile,
  readContainedJson,
  unsafeName,
} from '../fs/contained-file.js';
import {writeOutputFolder} from '../fs/output-folder.js';
import {checkTopologySizes, checkWeightSpecs, MAX_SHARDS, withWeightBudget} from './model-manifest.js';
import {concat, decodeWeightData, needsDecoding} from './weight-codec.js';

/** Bytes per weight shard file (tfjs's converter default, 4 MB). */
export const SHARD_BYTES = 4 * 1024 * 1024;

interface ModelJson {
  format?: string;
  modelTopology?: object;
  weightsManifest?: {paths?: unknown[]; weights?: tf.io.WeightsManifestEntry[]}[];
  [key: string]: unknown;
}

/**
 * A tfjs IOHandler over a model folder (`model.json` + shards), for any backend (tfjs's `file://`
 * handler needs tfjs-node). Loading is strict: bad JSON, a weight path that leaves the folder
 * (`../../x`, an absolute path, a URL, a symlink out), a shard that is not a regular file, a missing
 * or short shard are ModelErrors, and every path and size is checked before any shard is read (the
 * containment rule of src/fs/contained-file.ts, relative to `root`: the run folder when the model
 * is a run's `model/`). Weights in the kit's per-channel int8/int4 encoding are dequantized
 * (`decode: false` keeps them raw). Saving writes shards of at most 4 MB into a temporary folder
 * renamed over `dir`.
 */
export function modelFolderHandler(
  dir: string,
  options: {decode?: boolean; root?: string} = {},
): tf.io.IOHandler {
  return {
    load: async () => (await loadFolderArtifacts(dir, options.decode ?? true, options.root)).artifacts,
    save: async (artifacts) => {
      await writeModelFolder(dir, artifacts);
      return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
    },
  };
}

/**
 * Loads the LayersModel in `dir` (see {@link modelFolderHandler}); the kit's layers must be
 * registered. `root` (default `dir`) is the folder no file may leave. Building the model may create
 * no more weight elements than model.json lists.
 */
export async function loadModelFolder(dir: string, root = dir): Promise<tf.LayersModel> {
  const {artifacts, elements} = await loadFolderArtifacts(dir, true, root);
  try {
    return await withWeightBudget(elements, () => tf.loadLayersModel(tf.io.fromMemory(artifacts)));
  } catch (err) {
    if (err instanceof ModelError) throw new ModelError(`${dir}: ${err.message}`);
    throw new ModelError(`cannot build the model in ${dir}: ${printable((err as Error).message)}`);
  }
}

async function loadFolderArtifacts(
  dir: string,
  decode: boolean,
  root = dir,
): Promise<{artifacts: tf.io.ModelArtifacts; elements: number}> {
  const prefix = relative(root, dir);
  const inside = (name: string) => (prefix ? `${prefix}/${name}` : name);
  const jsonPath = join(dir, 'model.json');
  let json: ModelJson;
  try {
    json = (await readContainedJson(root, inside('model.json'), {
      maxBytes: FILE_LIMITS.modelJson,
      what: 'model.json',
    })) as ModelJson;
  } catch (err) {
    if (err instanceof ContainmentError && err.missing) {
      throw new ModelError(`cannot read ${jsonPath}: ENOENT`, 'pass a folder holding a tfjs model.json');
    }
    throw err;
  }
  if (
    typeof json !== 'object' ||
    json === null ||
    typeof json.modelTopology !== 'object' ||
    json.modelTopology === null ||
    !Array.isArray(json.weightsManifest)
  ) {
    throw new ModelError(`${jsonPath} is not a tfjs layers model (no modelTopology or weightsManifest)`);
  }
  const names: string[] = [];
  const specs: tf.io.WeightsManifestEntry[] = [];
  for (const group of json.weightsManifest) {
    if (!Array.isArray(group?.paths) || !Array.isArray(group.weights)) {
      throw new ModelError(`${jsonPath}: a weightsManifest group lacks "paths" or "weights"`);
    }
    for (const p of group.paths) {
      if (names.length >= MAX_SHARDS) {
        throw new ModelError(`${jsonPath}: weightsManifest lists more than ${MAX_SHARDS} shard files`);
      }
      if (unsafeName(p)) {
        throw new ModelError(
          `${jsonPath}: weight path "${printable(String(p), 120)}" points outside the model folder`,
          'refusing to read it; weight paths must be files inside the folder',
        );
      }
      names.push(p as string);
    }
    specs.push(...group.weights);
  }
  const needed = checkWeightSpecs(specs, jsonPath);
  checkTopologySizes(json.modelTopology, needed.elements, jsonPath);
  // Every shard is resolved, checked (inside, regular, sized) and counted before any is read.
  const shards: {name: string; real: string}[] = [];
  let total = 0;
  for (const name of names) {
    const file = await containedFile(root, inside(name), {
      maxBytes: FILE_LIMITS.weights,
      what: 'weight shard',
    }).catch((err: unknown) => {
      if (err instanceof ContainmentError && err.missing) {
        throw new ModelError(
          `missing weight shard ${join(dir, name)}: ENOENT`,
          'the model folder is incomplete; copy the whole folder',
        );
      }
      if (err instanceof ContainmentError && /leading outside/.test(err.message)) {
        throw new ModelError(
          `${jsonPath}: weight path "${printable(name, 120)}" points outside the model folder`,
          'refusing to read it; weight paths must be files inside the folder',
        );
      }
      throw err;
    });
    if (shards.some((s) => s.real === file.real)) {
      throw new ModelError(`${jsonPath}: weight shard "${printable(name, 120)}" is listed more than once`);
    }
    shards.push({name, real: file.real});
    total += file.size;
  }
  if (total < needed.bytes) {
    throw new ModelError(
      `${dir}: the weight shards hold ${total} bytes but model.json needs ${needed.bytes}`,
      'a shard is truncated; copy the model folder again',
    );
  }
  const parts: Uint8Array[] = [];
  for (const {name} of shards) {
    parts.push(
      await readContainedFile(root, inside(name), {maxBytes: FILE_LIMITS.weights, what: 'weight shard'}),
    );
  }
  const data = concat(parts);
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: json.modelTopology,
    format: json.format,
    weightSpecs: specs,
    weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer,
  };
  if (!decode || !needsDecoding(specs)) return {artifacts, elements: needed.elements};
  try {
    const decoded = decodeWeightData(specs, artifacts.weightData as ArrayBuffer);
    return {
      artifacts: {...artifacts, weightSpecs: decoded.specs, weightData: decoded.data},
      elements: needed.elements,
    };
  } catch (err) {
    throw new ModelError(`${jsonPath}: ${(err as Error).message}`);
  }
}

/** Writes model.json + `group1-shardNofM.bin` (≤ 4 MB each) to `dir`, replacing it atomically. */
export async function writeModelFolder(
  dir: string,
  artifacts: tf.io.ModelArtifacts,
  extra: Record<string, unknown> = {},
): Promise<{files: string[]; bytes: number}> {
  return writeOutputFolder(dir, {overwrite: true}, async (tmp) => {
    const data = artifacts.weightData === undefined ? new Uint8Array(0) : toBytes(artifacts.weightData);
    const count = Math.max(1, Math.ceil(data.byteLength / SHARD_BYTES));
    const paths: string[] = [];
    for (let i = 0; i < count; i++) {
      const name = `group1-shard${i + 1}of${count}.bin`;
      paths.push(name);
      await writeFile(join(tmp, name), data.subarray(i * SHARD_BYTES, (i + 1) * SHARD_BYTES));
    }
    const modelJson = {
      format: 'layers-model',
      generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
      convertedBy: 'deepseek-kit',
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{paths, weights: artifacts.weightSpecs ?? []}],
      ...extra,
    };
    const json = JSON.stringify(modelJson);
    await writeFile(join(tmp, 'model.json'), json);
    return {files: ['model.json', ...paths], bytes: Buffer.byteLength(json) + data.byteLength};
  });
}

function toBytes(data: tf.io.WeightData): Uint8Array {
  return Array.isArray(data) ? concat(data.map((b) => new Uint8Array(b))) : new Uint8Array(data);
}

/** Bytes of the files of a model folder (model.json + shards). */
export async function folderBytes(dir: string, files: readonly string[]): Promise<number> {
  let n = 0;
  for (const f of files) n += (await stat(join(dir, f))).size;
  return n;
}
