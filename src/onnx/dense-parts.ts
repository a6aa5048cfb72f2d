import * as tf from '@tensorflow/tfjs';
import {ModelError} from '../errors.js';
import {LoRADense} from '../layers/lora-dense.js';
import type {ConvertContext} from './convert-context.js';

/** A Dense (or LoRADense, adapter merged) as the exporter needs it. */
export interface DenseParts {
  /** The kernel's kit name (`block0/attn/q/kernel`): skip patterns and initializers use it. */
  name: string;
  /** [in, out] row-major. */
  kernel: Float32Array;
  shape: [number, number];
  bias?: Float32Array;
  /** tfjs activation name (`linear`, `relu`…). */
  activation: string;
}

/** The weights of a Dense or LoRADense layer; LoRA is fused (W + scale·A·B), as `merge` does. */
export function denseParts(layer: tf.layers.Layer): DenseParts {
  if (layer instanceof LoRADense) {
    const merged = layer.mergedWeights();
    try {
      const [kernel, bias] = merged.map((t) => t.dataSync() as Float32Array);
      const shape = merged[0]!.shape as [number, number];
      const name = layer.baseWeightNames()[0]!;
      return {name, kernel: kernel!, shape, bias, activation: layer.activation};
    } finally {
      tf.dispose(merged);
    }
  }
  if (layer.getClassName() !== 'Dense') {
    throw new ModelError(
      `ONNX export: '${layer.name}' is a ${layer.getClassName()}, expected a Dense projection`,
    );
  }
  const [kernel, bias] = layer.weights;
  return {
    name: kernel!.originalName,
    kernel: kernel!.read().dataSync() as Float32Array,
    shape: kernel!.shape as [number, number],
    bias: bias ? (bias.read().dataSync() as Float32Array) : undefined,
    activation: String(layer.getConfig().activation ?? 'linear'),
  };
}

/** The activations a Dense layer may have in an export, as ONNX ops on x. */
const ACTIVATIONS: Record<string, ((ctx: ConvertContext, x: string) => string) | undefined> = {
  linear: (_ctx, x) => x,
  relu: (ctx, x) => ctx.g.op('Relu', [x]),
  sigmoid: (ctx, x) => ctx.g.op('Sigmoid', [x]),
  tanh: (ctx, x) => ctx.g.op('Tanh', [x]),
  softmax: (ctx, x) => ctx.g.op('Softmax', [x], {axis: -1}),
};

/** x [..., in] through the layer: product, bias, activation. */
export function applyDense(ctx: ConvertContext, layer: tf.layers.Layer, x: string): string {
  const parts = denseParts(layer);
  const act = ACTIVATIONS[parts.activation];
  if (!act) {
    throw new ModelError(
      `ONNX export: layer '${layer.name}' has activation '${parts.activation}', which the exporter does not convert`,
      `supported: ${Object.keys(ACTIVATIONS).join(', ')}`,
    );
  }
  return act(ctx, ctx.weights.linear(x, parts.name, parts.kernel, parts.shape, parts.bias));
}
