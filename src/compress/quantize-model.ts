import * as tf from '@tensorflow/tfjs';
import {walkLayers} from '../layers/walk-layers.js';
import {fuseLoRA, isLoRALayer} from '../lora/lora-model.js';
import {
  decodeWeightData,
  type EncodeOptions,
  encodeWeights,
  type NamedWeight,
  resolveSkip,
  type WeightRow,
} from './weight-codec.js';

export interface QuantizeReport {
  dtype: string;
  granularity: string;
  /** The skip pattern used (source of the RegExp), or null. */
  skip: string | null;
  group_size: number;
  /** Weight bytes as float32, and as encoded (scales included). */
  size_bytes_before: number;
  size_bytes_after: number;
  /** Over every weight value: largest and mean |w − dequantized w|. */
  max_abs_error: number;
  mean_abs_error: number;
  /** Weights quantized / kept float32. */
  quantized_weights: number;
  kept_weights: number;
  rows: WeightRow[];
}

/** What `model.save` writes, captured in memory: the topology and each weight by its saved name. */
export interface ModelWeights {
  modelTopology: object;
  weights: NamedWeight[];
}

/** A model without training-only parts: LoRA adapters merged into their base weights. */
export function inferenceModel(model: tf.LayersModel): {model: tf.LayersModel; fused: boolean} {
  const fused = walkLayers(model).some(({layer}) => isLoRALayer(layer));
  return {model: fused ? fuseLoRA(model) : model, fused};
}

/** The topology and weights `model.save` would write (no optimizer state, no training config). */
export async function readModelWeights(model: tf.LayersModel): Promise<ModelWeights> {
  let captured: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
    }),
  );
  const specs = captured!.weightSpecs ?? [];
  const buffer = joinBuffers(captured!.weightData);
  const tensors = tf.io.decodeWeights(buffer, specs);
  const weights = specs.map((s) => {
    const t = tensors[s.name]!;
    return {
      name: s.name,
      shape: [...s.shape],
      dtype: s.dtype,
      data: t.dataSync() as Float32Array | Int32Array,
    };
  });
  tf.dispose(Object.values(tensors));
  return {modelTopology: captured!.modelTopology as object, weights};
}

/**
 * Post-training weight quantization: encodes every weight as `options` say and returns a model that
 * runs on the dequantized weights (exactly what a loader of the encoded model gets), the encoded
 * artifacts, and a report of sizes and weight errors. LoRA adapters are fused first. `model` is not
 * changed; dispose the returned model when done.
 */
export async function quantizeModel(
  model: tf.LayersModel,
  options: EncodeOptions,
): Promise<{model: tf.LayersModel; report: QuantizeReport; artifacts: tf.io.ModelArtifacts}> {
  const prepared = inferenceModel(model);
  const {modelTopology, weights} = await readModelWeights(prepared.model);
  if (prepared.fused) prepared.model.dispose();
  const {specs, data, rows} = encodeWeights(weights, options);
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology,
    weightSpecs: specs,
    weightData: data.buffer as ArrayBuffer,
    format: 'layers-model',
  };
  const decoded = decodeWeightData(specs, data.buffer as ArrayBuffer);
  const runnable = await tf.loadLayersModel(
    tf.io.fromMemory({modelTopology, weightSpecs: decoded.specs, weightData: decoded.data}),
  );
  return {model: runnable, report: summarize(rows, options), artifacts};
}

export function summarize(rows: readonly WeightRow[], options: EncodeOptions): QuantizeReport {
  let values = 0;
  let errorSum = 0;
  let maxError = 0;
  for (const r of rows) {
    const n = r.shape.reduce((a, b) => a * b, 1);
    values += n;
    errorSum += r.mean_abs_error * n;
    maxError = Math.max(maxError, r.max_abs_error);
  }
  const skip = resolveSkip(options);
  return {
    dtype: options.dtype,
    granularity: options.granularity ?? 'per-channel',
    skip: skip ? skip.source : null,
    group_size: options.groupSize ?? 0,
    size_bytes_before: rows.reduce((n, r) => n + r.bytes_before, 0),
    size_bytes_after: rows.reduce((n, r) => n + r.bytes_after, 0),
    max_abs_error: maxError,
    mean_abs_error: values ? errorSum / values : 0,
    quantized_weights: rows.filter((r) => r.kept === undefined).length,
    kept_weights: rows.filter((r) => r.kept !== undefined).length,
    rows: [...rows],
  };
}

function joinBuffers(data: tf.io.WeightData | undefined): ArrayBuffer {
  if (data === undefined) return new ArrayBuffer(0);
  if (!Array.isArray(data)) return data;
  const parts = data.map((b) => new Uint8Array(b));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out.buffer;
}
