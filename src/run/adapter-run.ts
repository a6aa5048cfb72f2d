import {createHash} from 'node:crypto';
import {mkdir, readdir, writeFile} from 'node:fs/promises';
import {join, relative, resolve} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {ModelError} from '../errors.js';
import {containedFolder, FILE_LIMITS, readContainedFile, readContainedJson} from '../fs/contained-file.js';
import {headLayer, replaceHead} from '../lora/finetune-model.js';
import {loadAdapter, saveAdapter} from '../lora/lora-adapter.js';
import {RUN_FILES, type RunConfig} from './run-folder.js';

/** Where a LoRA run keeps its adapter (adapter.json, adapter.weights.bin) and trained head. */
export const ADAPTER_DIR = 'adapter';
const HEAD_JSON = 'head.json';
const HEAD_WEIGHTS = 'head.weights.bin';

/** config.json's `adapter` key: the run is an adapter over the base run it names. */
export interface AdapterReference {
  /** The base run folder, relative to this run's folder. */
  base: string;
  /** sha256 of the base's model.json and weight files: a changed base is detected. */
  fingerprint: string;
  /** Folder of the adapter inside this run. */
  dir: string;
  /** The classifier head trained in full alongside the adapter, if any. */
  head?: string;
}

/** The adapter reference of a run config, or undefined for a plain run. */
export function adapterReference(config: RunConfig): AdapterReference | undefined {
  const ref = config.adapter as AdapterReference | undefined;
  return ref && typeof ref === 'object' && typeof ref.base === 'string' ? ref : undefined;
}

/**
 * sha256 over the base run's model/ files (model.json and shards, by name); for a LoRA run, over
 * its adapter files and its own base's fingerprint.
 */
export async function modelFingerprint(runDir: string): Promise<string> {
  const listed = async (dir: string) =>
    (await readdir(dir).catch(() => [] as string[])).filter((f) => !f.includes('.tmp-')).sort();
  const hash = createHash('sha256');
  let dir = join(runDir, RUN_FILES.model);
  let files = await listed(dir);
  if (!files.includes(RUN_FILES.modelJson)) {
    const config = (await readContainedJson(runDir, RUN_FILES.config, {
      maxBytes: FILE_LIMITS.json,
      what: 'run config',
    }).catch(() => ({}))) as RunConfig;
    const ref = adapterReference(config);
    if (!ref) throw new ModelError(`${runDir} has no model (${dir}/model.json)`, 'fine-tune a finished run');
    hash.update(ref.fingerprint);
    dir = await containedFolder(runDir, ref.dir, 'adapter folder (config.json adapter.dir)');
    files = await listed(dir);
  } else {
    dir = await containedFolder(runDir, RUN_FILES.model, 'model folder');
  }
  for (const f of files) {
    hash
      .update(f)
      .update(await readContainedFile(dir, f, {maxBytes: FILE_LIMITS.weights, what: 'model file'}));
  }
  return `sha256:${hash.digest('hex')}`;
}

/** The reference a run in `out` keeps to `baseDir`. */
export async function referenceTo(baseDir: string, out: string, head?: string): Promise<AdapterReference> {
  return {
    base: relative(resolve(out), resolve(baseDir)) || '.',
    fingerprint: await modelFingerprint(baseDir),
    dir: ADAPTER_DIR,
    ...(head ? {head} : {}),
  };
}

/** Saves the adapter (and the head, if the run trains one) of `model` into `<out>/adapter`. Returns bytes. */
export async function saveAdapterRun(model: tf.LayersModel, out: string, head?: string): Promise<number> {
  const dir = join(out, ADAPTER_DIR);
  const {bytes} = await saveAdapter(model, dir);
  if (!head) return bytes;
  const layer = headLayer(model, head);
  const weights = Object.fromEntries(layer.weights.map((w) => [w.originalName, w.read()]));
  const {data, specs} = await tf.io.encodeWeights(weights);
  const units = layer.weights[0]!.shape.at(-1);
  const json = `${JSON.stringify({layer: head, units, weightSpecs: specs}, null, 2)}\n`;
  await mkdir(dir, {recursive: true});
  await writeFile(join(dir, HEAD_WEIGHTS), Buffer.from(data as ArrayBuffer));
  await writeFile(join(dir, HEAD_JSON), json);
  return bytes + (data as ArrayBuffer).byteLength + Buffer.byteLength(json);
}

/**
 * `base` with the adapter run's head and adapter put on: a LoRA model that predicts as the
 * fine-tuned one. A base the adapter does not fit is a ModelError naming the layer and shapes.
 */
export async function attachAdapterRun(
  base: tf.LayersModel,
  adapterRunDir: string,
  ref: AdapterReference,
): Promise<tf.LayersModel> {
  const dir = await containedFolder(adapterRunDir, ref.dir, 'adapter folder (config.json adapter.dir)');
  // The adapter first: its shape checks name the first layer that does not fit.
  let model = (await loadAdapter(base, dir)).model;
  if (!ref.head) return model;
  try {
    const manifest = (await readContainedJson(dir, HEAD_JSON, {
      maxBytes: FILE_LIMITS.json,
      what: 'head',
    })) as {
      units: number;
      weightSpecs: tf.io.WeightsManifestEntry[];
    };
    if (
      !Number.isSafeInteger(manifest?.units) ||
      manifest.units < 1 ||
      !Array.isArray(manifest.weightSpecs)
    ) {
      throw new ModelError(
        `${dir}/${HEAD_JSON}: "units" must be a positive whole number and "weightSpecs" a list`,
      );
    }
    if (headLayer(model, ref.head).weights[0]!.shape.at(-1) !== manifest.units) {
      const replaced = replaceHead(model, ref.head, manifest.units);
      model.dispose();
      model = replaced;
    }
    const data = await readContainedFile(dir, HEAD_WEIGHTS, {
      maxBytes: FILE_LIMITS.weights,
      what: 'head weights',
    });
    const buffer = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
    const weights = tf.io.decodeWeights(buffer, manifest.weightSpecs);
    try {
      for (const w of headLayer(model, ref.head).weights) {
        const value = weights[w.originalName];
        if (!value || !tf.util.arraysEqual(value.shape, w.shape as number[])) {
          throw new ModelError(
            `${dir}: head weight ${w.originalName} is [${value?.shape.join(', ') ?? 'missing'}] but the model's is [${w.shape.join(', ')}]`,
            'load the adapter onto the base model it was trained from',
          );
        }
        w.write(value);
      }
    } finally {
      tf.dispose(Object.values(weights));
    }
    return model;
  } catch (err) {
    model.dispose();
    throw err;
  }
}

/** The merged run's config: the fine-tuned run's, as a plain model (no adapter to attach). */
export function mergedRunConfig(config: RunConfig): RunConfig {
  const {adapter: _adapter, ...rest} = config;
  return {...rest, finetune: {...(config.finetune as object), merged: true}};
}
