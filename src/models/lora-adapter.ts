import {mkdir, readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {ModelError} from '../errors.js';
import type {LoRADense, ResolvedLoRASpec} from '../layers/lora-dense.js';
import type {LoRAEmbedding} from '../layers/lora-embedding.js';
import {applyLoRA, isLoRALayer, type LoRAReport, walkLayers} from './lora-model.js';

export const ADAPTER_FORMAT = 'deepseek-kit-lora-adapter';
export const ADAPTER_JSON = 'adapter.json';
export const ADAPTER_WEIGHTS = 'adapter.weights.bin';

/** Base layer classes an adapter can sit on. */
const ADAPTABLE = ['Dense', 'Embedding', 'TokenEmbedding'];

/**
 * One adapted layer: where it sits in the base model and the shape of its kernel [inDim, outDim]
 * (for an embedding, its table [vocabSize, dModel]).
 */
export interface AdapterLayer {
  path: string;
  inDim: number;
  outDim: number;
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

/** Copies the A/B weights of every LoRA layer in `model` (new tensors, caller disposes). */
export function extractAdapter(model: tf.LayersModel): LoRAAdapter {
  const adapted = walkLayers(model).filter(({layer}) => isLoRALayer(layer));
  if (adapted.length === 0)
    throw new ModelError('extractAdapter: the model has no LoRA layers — apply LoRA first');
  // Embedding adapters have no dropout, so the spec is that of the first Dense adapter if any.
  const first = adapted.find(({layer}) => layer.getClassName() === 'LoRADense') ?? adapted[0]!;
  const spec = (first.layer as LoRADense).lora;
  const sameShape = (s: ResolvedLoRASpec) =>
    s.rank === spec.rank && s.alpha === spec.alpha && s.rslora === spec.rslora;
  const layers: AdapterLayer[] = [];
  const weights: tf.NamedTensorMap = {};
  for (const {path, layer} of adapted) {
    const lora = layer as LoRADense | LoRAEmbedding;
    if (!sameShape(lora.lora)) {
      throw new ModelError(
        `extractAdapter: '${path}' has LoRA ${JSON.stringify(lora.lora)}, others ${JSON.stringify(spec)}`,
      );
    }
    const [a, b] = lora.getAdapterWeights();
    layers.push({path, inDim: a!.shape[0]!, outDim: b!.shape[1]!});
    weights[`${path}/lora_a`] = a!;
    weights[`${path}/lora_b`] = b!;
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

/** Reads an adapter saved by `saveAdapter`. */
export async function readAdapter(dir: string): Promise<LoRAAdapter> {
  const file = join(dir, ADAPTER_JSON);
  let manifest: AdapterManifest;
  try {
    manifest = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new ModelError(`${file}: cannot read the adapter manifest: ${(err as Error).message}`);
  }
  if (manifest.format !== ADAPTER_FORMAT || manifest.version !== 1) {
    throw new ModelError(`${file}: not a ${ADAPTER_FORMAT} version 1 file`);
  }
  const data = await readFile(join(dir, manifest.weightsFile));
  const buffer = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
  const weights = tf.io.decodeWeights(buffer, manifest.weightSpecs);
  const {weightSpecs: _specs, weightsFile: _file, ...rest} = manifest;
  return {manifest: rest, weights};
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
  for (const {path, inDim, outDim} of manifest.layers) {
    const layer = byPath.get(path);
    if (!layer) throw new ModelError(`adapter layer '${path}' is not in the base model '${base.name}'`);
    if (!ADAPTABLE.includes(layer.getClassName())) {
      throw new ModelError(
        `adapter layer '${path}' is a ${layer.getClassName()} in the base model, not one of ${ADAPTABLE.join(', ')}`,
      );
    }
    const kernel = layer.weights[0]!.shape;
    if (kernel[0] !== inDim || kernel[1] !== outDim) {
      throw new ModelError(
        `adapter layer '${path}' was trained on a kernel of shape [${inDim}, ${outDim}] but the base model's is [${kernel.join(', ')}]`,
        'load the adapter onto the base model it was trained from',
      );
    }
  }
  const {rank, alpha, rslora, dropout} = manifest;
  const result = applyLoRA(base, {rank, alpha, rslora, dropout, targets: manifest.layers.map((l) => l.path)});
  for (const {path, layer} of walkLayers(result.model)) {
    if (!isLoRALayer(layer)) continue;
    const a = weights[`${path}/lora_a`];
    const b = weights[`${path}/lora_b`];
    if (!a || !b) throw new ModelError(`adapter has no weights for layer '${path}'`);
    layer.setAdapterWeights([a, b]);
  }
  return result;
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
