import {randomBytes} from 'node:crypto';
import {mkdir, readFile, realpath, rename, rm, stat, writeFile} from 'node:fs/promises';
import {isAbsolute, join, relative, resolve, sep} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {ModelError} from '../errors.js';
import {concat, decodeWeightData, needsDecoding, specByteLength} from './weight-codec.js';

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
 * (`../../x`, an absolute path, a URL, a symlink out), a missing or short shard are ModelErrors,
 * and every path is checked before any shard is read. Weights in the kit's per-channel int8/int4
 * encoding are dequantized (`decode: false` keeps them raw). Saving writes shards of at most 4 MB
 * into a temporary folder renamed over `dir`.
 */
export function modelFolderHandler(dir: string, options: {decode?: boolean} = {}): tf.io.IOHandler {
  return {
    load: () => loadFolderArtifacts(dir, options.decode ?? true),
    save: async (artifacts) => {
      await writeModelFolder(dir, artifacts);
      return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
    },
  };
}

/** Loads the LayersModel in `dir` (see {@link modelFolderHandler}); the kit's layers must be registered. */
export async function loadModelFolder(dir: string): Promise<tf.LayersModel> {
  const handler = modelFolderHandler(dir);
  const artifacts = await handler.load!();
  try {
    return await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (err) {
    throw new ModelError(`cannot build the model in ${dir}: ${(err as Error).message}`);
  }
}

async function loadFolderArtifacts(dir: string, decode: boolean): Promise<tf.io.ModelArtifacts> {
  const jsonPath = join(dir, 'model.json');
  let text: string;
  try {
    text = await readFile(jsonPath, 'utf8');
  } catch (err) {
    throw new ModelError(
      `cannot read ${jsonPath}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      'pass a folder holding a tfjs model.json',
    );
  }
  let json: ModelJson;
  try {
    json = JSON.parse(text) as ModelJson;
  } catch (err) {
    throw new ModelError(
      `${jsonPath} is not valid JSON: ${(err as Error).message}`,
      'the model file is damaged',
    );
  }
  if (
    typeof json !== 'object' ||
    json === null ||
    !json.modelTopology ||
    !Array.isArray(json.weightsManifest)
  ) {
    throw new ModelError(`${jsonPath} is not a tfjs layers model (no modelTopology or weightsManifest)`);
  }
  const root = await realpath(dir);
  const files: string[] = [];
  const specs: tf.io.WeightsManifestEntry[] = [];
  for (const group of json.weightsManifest) {
    if (!Array.isArray(group?.paths) || !Array.isArray(group.weights)) {
      throw new ModelError(`${jsonPath}: a weightsManifest group lacks "paths" or "weights"`);
    }
    for (const p of group.paths) files.push(insideFolder(root, p, jsonPath));
    specs.push(...group.weights);
  }
  // Symlinks are resolved and checked too, all before reading any shard.
  const real: string[] = [];
  for (const file of files) {
    const target = await realpath(file).catch((err: NodeJS.ErrnoException) => {
      throw new ModelError(
        `missing weight shard ${file}: ${err.code ?? String(err)}`,
        'the model folder is incomplete; copy the whole folder',
      );
    });
    real.push(insideFolder(root, relative(root, target), jsonPath));
  }
  const data = concat(await Promise.all(real.map((f) => readFile(f))));
  const needed = specs.reduce((n, s) => n + (specByteLength(s) ?? 0), 0);
  if (data.byteLength < needed) {
    throw new ModelError(
      `${dir}: the weight shards hold ${data.byteLength} bytes but model.json needs ${needed}`,
      'a shard is truncated; copy the model folder again',
    );
  }
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: json.modelTopology,
    format: json.format,
    weightSpecs: specs,
    weightData: data.buffer as ArrayBuffer,
  };
  if (!decode || !needsDecoding(specs)) return artifacts;
  try {
    const decoded = decodeWeightData(specs, artifacts.weightData as ArrayBuffer);
    return {...artifacts, weightSpecs: decoded.specs, weightData: decoded.data};
  } catch (err) {
    throw new ModelError(`${jsonPath}: ${(err as Error).message}`);
  }
}

/** A manifest weight path resolved inside `root`; anything that escapes it is a ModelError. */
function insideFolder(root: string, path: unknown, jsonPath: string): string {
  if (typeof path !== 'string' || path === '')
    throw new ModelError(`${jsonPath}: a weight path is not a file name`);
  const full = resolve(root, path);
  const rel = relative(root, full);
  if (
    isAbsolute(path) ||
    /^[a-z][a-z0-9+.-]*:/i.test(path) ||
    rel === '' ||
    rel.startsWith(`..${sep}`) ||
    rel === '..'
  ) {
    throw new ModelError(
      `${jsonPath}: weight path "${path}" points outside the model folder`,
      'refusing to read it; weight paths must be files inside the folder',
    );
  }
  return full;
}

/** Writes model.json + `group1-shardNofM.bin` (≤ 4 MB each) to `dir`, replacing it atomically. */
export async function writeModelFolder(
  dir: string,
  artifacts: tf.io.ModelArtifacts,
  extra: Record<string, unknown> = {},
): Promise<{files: string[]; bytes: number}> {
  const tmp = `${dir}.tmp-${randomBytes(4).toString('hex')}`;
  await mkdir(tmp, {recursive: true});
  try {
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
    await rm(dir, {recursive: true, force: true});
    await rename(tmp, dir);
    return {files: ['model.json', ...paths], bytes: Buffer.byteLength(json) + data.byteLength};
  } catch (err) {
    await rm(tmp, {recursive: true, force: true});
    throw err;
  }
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
