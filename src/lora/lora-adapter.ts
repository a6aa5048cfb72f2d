import {mkdir, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {ModelError} from '../errors.js';
import {ContainmentError, FILE_LIMITS, readContainedFile, readContainedJson} from '../fs/contained-file.js';
import type {LoRADense, ResolvedLoRASpec} from '../layers/lora-dense.js';
import {LoRAEmbedding} from '../layers/lora-embedding.js';
import {MoE} from '../layers/moe.js';
import {walkLayers} from '../layers/walk-layers.js';
import {applyLoRA, isLoRALayer, type LoRAReport} from './lora-model.js';

export const ADAPTER_FORMAT = 'deepseek-kit-lora-adapter';
export const ADAPTER_JSON = 'adapter.json';
export const ADAPTER_WEIGHTS = 'adapter.weights.bin';

/** Base layer classes an adapter can sit on. */
const ADAPTABLE = ['Dense', 'Embedding', 'TokenEmbedding'];

/**
 * One adapted layer: where it sits in the base model and the shape of its kernel [inDim, outDim]
 * (for an embedding, its table [vocabSize, dModel]; for an MoE's routed experts, `experts` stacked
 * kernels [experts, inDim, outDim]).
 */
export interface AdapterLayer {
  path: string;
  inDim: number;
  outDim: number;
  /** Routed experts of a stacked MoE projection (`block0/ffn/experts/down`); absent otherwise. */
  experts?: number;
}

/** adapter.json: the LoRA spec, the adapted layers, and the layout of adapter.weights.bin. */
export interface AdapterManifest extends ResolvedLoRASpec {
  format: typeof ADAPTER_FORMAT;
  version: 1;
  layers: AdapterLayer[];
  weightsFile: string;
  weightSpecs: tf.io.WeightsManifestEntry[];
}

/** An adapter in memory: weights named `<path>/lora_a` and `<path>/lora_b`. */
export interface LoRAAdapter {
  manifest: Omit<AdapterManifest, 'weightSpecs' | 'weightsFile'>;
  weights: tf.NamedTensorMap;
}

/** One adapter of a model: a LoRA layer's, or one adapted MoE projection's. */
interface AdapterUnit {
  path: string;
  spec: ResolvedLoRASpec;
  embedding: boolean;
  get(): tf.Tensor[];
  set(weights: tf.Tensor[]): void;
}

/** Every adapter of `model`, in model order, by path. */
function adapterUnits(model: tf.LayersModel): AdapterUnit[] {
  return walkLayers(model).flatMap(({path, layer}): AdapterUnit[] => {
    if (layer instanceof MoE) {
      return layer.loraAdapters().map((a) => ({
        path: `${path}/${a.site}`,
        spec: a.spec,
        embedding: false,
        get: () => a.getAdapterWeights(),
        set: (w) => a.setAdapterWeights(path, w),
      }));
    }
    if (!isLoRALayer(layer)) return [];
    return [
      {
        path,
        spec: (layer as LoRADense | LoRAEmbedding).lora,
        embedding: layer instanceof LoRAEmbedding,
        get: () => layer.getAdapterWeights(),
        set: (w) => layer.setAdapterWeights(w),
      },
    ];
  });
}

/** Copies the A/B weights of every LoRA layer in `model` (new tensors, caller disposes). */
export function extractAdapter(model: tf.LayersModel): LoRAAdapter {
  const adapted = adapterUnits(model);
  if (adapted.length === 0)
    throw new ModelError('extractAdapter: the model has no LoRA layers — apply LoRA first');
  // Embedding adapters have no dropout, so the spec is that of the first other adapter if any.
  const spec = (adapted.find((u) => !u.embedding) ?? adapted[0]!).spec;
  const sameShape = (s: ResolvedLoRASpec) =>
    s.rank === spec.rank && s.alpha === spec.alpha && s.rslora === spec.rslora;
  const layers: AdapterLayer[] = [];
  const weights: tf.NamedTensorMap = {};
  for (const unit of adapted) {
    if (!sameShape(unit.spec)) {
      tf.dispose(Object.values(weights));
      throw new ModelError(
        `extractAdapter: '${unit.path}' has LoRA ${JSON.stringify(unit.spec)}, others ${JSON.stringify(spec)}`,
      );
    }
    const [a, b] = unit.get() as [tf.Tensor, tf.Tensor];
    // A [(E,) in, r], B [(E,) r, out]
    const stacked = a.rank === 3 ? {experts: a.shape[0]!} : {};
    layers.push({path: unit.path, inDim: a.shape.at(-2)!, outDim: b.shape.at(-1)!, ...stacked});
    weights[`${unit.path}/lora_a`] = a;
    weights[`${unit.path}/lora_b`] = b;
  }
  return {manifest: {format: ADAPTER_FORMAT, version: 1, ...spec, layers}, weights};
}

/** Writes `dir/adapter.json` and `dir/adapter.weights.bin` (A/B only: small). Returns the bytes written. */
export async function saveAdapter(model: tf.LayersModel, dir: string): Promise<{bytes: number}> {
  const {manifest, weights} = extractAdapter(model);
  try {
    const {data, specs} = await tf.io.encodeWeights(weights);
    const buffer = Buffer.from(data as ArrayBuffer);
    const full: AdapterManifest = {...manifest, weightsFile: ADAPTER_WEIGHTS, weightSpecs: specs};
    await mkdir(dir, {recursive: true});
    const json = `${JSON.stringify(full, null, 2)}\n`;
    await writeFile(join(dir, ADAPTER_WEIGHTS), buffer);
    await writeFile(join(dir, ADAPTER_JSON), json);
    return {bytes: buffer.length + Buffer.byteLength(json)};
  } finally {
    tf.dispose(weights);
  }
}

/**
 * Reads an adapter saved by `saveAdapter`. adapter.json and its `weightsFile` are read under the
 * containment rule (src/fs/contained-file.ts): the weights file must be a regular file inside `dir`,
 * of the size the manifest's weights take.
 */
export async function readAdapter(dir: string): Promise<LoRAAdapter> {
  const file = join(dir, ADAPTER_JSON);
  const manifest = (await readContainedJson(dir, ADAPTER_JSON, {
    maxBytes: FILE_LIMITS.json,
    what: 'adapter manifest',
  }).catch((err: unknown) => {
    if (!(err instanceof ContainmentError && err.missing)) throw err;
    throw new ModelError(
      `${file}: cannot read the adapter manifest: ENOENT`,
      'pass the adapter folder of a LoRA run',
    );
  })) as AdapterManifest;
  if (
    typeof manifest !== 'object' ||
    manifest === null ||
    manifest.format !== ADAPTER_FORMAT ||
    manifest.version !== 1
  ) {
    throw new ModelError(`${file}: not a ${ADAPTER_FORMAT} version 1 file`);
  }
  if (!Array.isArray(manifest.weightSpecs) || !Array.isArray(manifest.layers)) {
    throw new ModelError(`${file}: "weightSpecs" and "layers" must be lists`, 'the adapter is damaged');
  }
  const needed = adapterBytes(manifest.weightSpecs, file);
  const data = await readContainedFile(dir, manifest.weightsFile, {
    maxBytes: FILE_LIMITS.weights,
    what: 'weightsFile',
  });
  if (data.byteLength !== needed) {
    throw new ModelError(
      `${file}: weightsFile holds ${data.byteLength} bytes but weightSpecs need ${needed}`,
      'the adapter is damaged; copy it again',
    );
  }
  const buffer = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
  const weights = tf.io.decodeWeights(buffer, manifest.weightSpecs);
  const {weightSpecs: _specs, weightsFile: _file, ...rest} = manifest;
  return {manifest: rest, weights};
}

/** Bytes the adapter's float32 weights take; a shape that is not whole numbers is a ModelError. */
function adapterBytes(specs: readonly tf.io.WeightsManifestEntry[], file: string): number {
  let bytes = 0;
  for (const spec of specs) {
    const ok =
      typeof spec === 'object' &&
      spec !== null &&
      spec.dtype === 'float32' &&
      Array.isArray(spec.shape) &&
      spec.shape.every((d) => Number.isSafeInteger(d) && d >= 0 && d < 2 ** 31);
    const count = ok ? spec.shape.reduce((a, b) => a * b, 1) : Number.NaN;
    if (!(count < 2 ** 31)) {
      throw new ModelError(
        `${file}: weightSpecs entry ${JSON.stringify(spec?.name ?? null)?.slice(0, 80)} needs a float32 dtype and a shape of whole numbers`,
        'the adapter is damaged',
      );
    }
    bytes += count * 4;
  }
  return bytes;
}

/**
 * A copy of `base` with the adapter's layers wrapped in LoRADense/LoRAEmbedding and A/B loaded, everything
 * else frozen. The base must have a layer at each adapter path with the same kernel shape; if not,
 * a ModelError names the layer and both shapes. The adapter's tensors are not disposed.
 */
export function attachAdapter(
  base: tf.LayersModel,
  adapter: LoRAAdapter,
): {model: tf.LayersModel; report: LoRAReport} {
  const {manifest, weights} = adapter;
  const byPath = new Map(walkLayers(base).map(({path, layer}) => [path, layer]));
  for (const {path, inDim, outDim, experts} of manifest.layers) {
    const kernel = baseKernelShape(base, byPath, path);
    const trained = experts === undefined ? [inDim, outDim] : [experts, inDim, outDim];
    if (!tf.util.arraysEqual(kernel, trained)) {
      throw new ModelError(
        `adapter layer '${path}' was trained on a kernel of shape [${trained.join(', ')}] but the base model's is [${kernel.join(', ')}]`,
        'load the adapter onto the base model it was trained from',
      );
    }
  }
  const {rank, alpha, rslora, dropout} = manifest;
  const result = applyLoRA(base, {rank, alpha, rslora, dropout, targets: manifest.layers.map((l) => l.path)});
  try {
    for (const unit of adapterUnits(result.model)) {
      const a = weights[`${unit.path}/lora_a`];
      const b = weights[`${unit.path}/lora_b`];
      if (!a || !b) throw new ModelError(`adapter has no weights for layer '${unit.path}'`);
      unit.set([a, b]);
    }
  } catch (err) {
    result.model.dispose();
    throw err;
  }
  return result;
}

/**
 * The shape of the base weight an adapter at `path` sits on: a Dense kernel, an embedding table, or
 * an MoE projection (`<moe>/experts/down`: [E, in, out]). A path that names none is a ModelError.
 */
function baseKernelShape(base: tf.LayersModel, byPath: Map<string, tf.layers.Layer>, path: string): number[] {
  const layer = byPath.get(path);
  if (layer) {
    if (!ADAPTABLE.includes(layer.getClassName())) {
      throw new ModelError(
        `adapter layer '${path}' is a ${layer.getClassName()} in the base model, not one of ${ADAPTABLE.join(', ')} or an MoE projection`,
      );
    }
    return layer.weights[0]!.shape as number[];
  }
  const cut = path.lastIndexOf('/', path.lastIndexOf('/') - 1);
  const host = cut > 0 ? byPath.get(path.slice(0, cut)) : undefined;
  const site = path.slice(cut + 1);
  if (host instanceof MoE && host.loraSites().includes(site)) return host.projectionShape(site);
  throw new ModelError(`adapter layer '${path}' is not in the base model '${base.name}'`);
}

/** `readAdapter` + `attachAdapter`. */
export async function loadAdapter(
  base: tf.LayersModel,
  dir: string,
): Promise<{model: tf.LayersModel; report: LoRAReport}> {
  const adapter = await readAdapter(dir);
  try {
    return attachAdapter(base, adapter);
  } finally {
    tf.dispose(adapter.weights);
  }
}
