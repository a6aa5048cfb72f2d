import type * as tf from '@tensorflow/tfjs';
import {ModelError} from '../errors.js';
import type {Attention} from '../layers/attention.js';
import type {DecoderBlock} from '../layers/decoder-block.js';
import {BIGRAM_ID_RANGE, BIGRAM_MULTIPLIER, type HashedBigrams} from '../layers/hashed-bigrams.js';
import type {LearnedPositions} from '../layers/learned-positions.js';
import {LoRAEmbedding} from '../layers/lora-embedding.js';
import type {MaskedMeanPool} from '../layers/masked-mean-pool.js';
import type {MoE} from '../layers/moe.js';
import type {RMSNorm} from '../layers/rms-norm.js';
import {convertAttention} from './convert-attention.js';
import type {ConvertContext, OnnxValue} from './convert-context.js';
import {convertMoE} from './convert-moe.js';
import {applyDense} from './dense-parts.js';
import {DType} from './onnx-graph.js';

/** Turns one layer application into graph nodes: its input values → its output value. */
export type LayerConverter = (ctx: ConvertContext, layer: tf.layers.Layer, inputs: OnnxValue[]) => OnnxValue;

const float = (name: string): OnnxValue => ({name, dtype: 'float32'});
const first = (inputs: OnnxValue[]) => inputs[0]!.name;

/**
 * Every layer class the exporter converts, by tfjs class name: the kit's layers and the few tfjs
 * layers its models use. Anything else is refused by `convertLayer` with an error naming it;
 * test/onnx/layer-coverage.test.ts checks that every layer class the kit registers is here.
 */
export const ONNX_CONVERTERS: Readonly<Record<string, LayerConverter>> = {
  InputLayer: (_ctx, _layer, inputs) => inputs[0]!,
  Dropout: (_ctx, _layer, inputs) => inputs[0]!,
  Add: (ctx, _layer, inputs) =>
    float(inputs.slice(1).reduce((sum, v) => ctx.g.op('Add', [sum, v.name]), first(inputs))),
  Dense: (ctx, layer, inputs) => float(applyDense(ctx, layer, first(inputs))),
  LoRADense: (ctx, layer, inputs) => float(applyDense(ctx, layer, first(inputs))),
  TokenEmbedding: (ctx, layer, inputs) => embedding(ctx, layer, inputs[0]!),
  LoRAEmbedding: (ctx, layer, inputs) => embedding(ctx, layer, inputs[0]!),
  Embedding: (ctx, layer, inputs) => embedding(ctx, layer, inputs[0]!),
  LearnedPositions: (ctx, layer, inputs) =>
    float(learnedPositions(ctx, layer as LearnedPositions, first(inputs))),
  RMSNorm: (ctx, layer, inputs) => float(rmsNorm(ctx, layer as RMSNorm, first(inputs))),
  Attention: (ctx, layer, inputs) => float(convertAttention(ctx, layer as Attention, first(inputs))),
  SwiGLU: (ctx, layer, inputs) => float(swiglu(ctx, layer, first(inputs))),
  MoE: (ctx, layer, inputs) => float(convertMoE(ctx, layer as MoE, first(inputs))),
  DecoderBlock: (ctx, layer, inputs) => float(decoderBlock(ctx, layer as DecoderBlock, first(inputs))),
  MaskedMeanPool: (ctx, layer, inputs) => float(maskedMeanPool(ctx, layer as MaskedMeanPool, inputs)),
  HashedBigrams: (ctx, layer, inputs) => ({
    name: hashedBigrams(ctx, layer as HashedBigrams, first(inputs)),
    dtype: 'int64',
  }),
};

/** Converts one application of `layer`; a class without a converter is a ModelError naming it. */
export function convertLayer(ctx: ConvertContext, layer: tf.layers.Layer, inputs: OnnxValue[]): OnnxValue {
  const className = layer.getClassName();
  const convert = ONNX_CONVERTERS[className];
  if (!convert) {
    throw new ModelError(
      `ONNX export: layer '${layer.name}' is a ${className}, which the ONNX exporter does not convert`,
      `it converts ${Object.keys(ONNX_CONVERTERS).join(', ')}; export with --format tfjs instead`,
    );
  }
  return convert(ctx, layer, inputs);
}

/**
 * TokenEmbedding, LoRAEmbedding (adapter merged) or tfjs Embedding. Applied to ids it looks rows up;
 * applied to hidden states (a TokenEmbedding reused as the tied output head) it is h · tableᵀ.
 */
function embedding(ctx: ConvertContext, layer: tf.layers.Layer, input: OnnxValue): OnnxValue {
  if (layer.getConfig().maskZero) {
    throw new ModelError(
      `ONNX export: embedding '${layer.name}' uses maskZero, which the exporter does not keep`,
    );
  }
  const merged = layer instanceof LoRAEmbedding ? layer.mergedWeights()[0]! : null;
  const variable = layer.weights.find((w) => /embeddings$/.test(w.originalName))!;
  const name = variable.originalName;
  const data = (merged ?? variable.read()).dataSync() as Float32Array;
  merged?.dispose();
  const shape = variable.shape as [number, number];
  if (input.dtype === 'float32') {
    const table = ctx.weights.table(name, data, shape);
    return float(
      ctx.g.op(
        'MatMul',
        [input.name, ctx.g.op('Transpose', [table], {perm: [1, 0]})],
        {},
        `${layer.name}/logits`,
      ),
    );
  }
  return float(ctx.weights.gather(input.name, name, data, shape));
}

/** x [b, t, d] + the position vectors of past … past + t − 1. */
function learnedPositions(ctx: ConvertContext, layer: LearnedPositions, x: string): string {
  const variable = layer.weights[0]!;
  const rows = ctx.weights.gather(
    ctx.positions(),
    variable.originalName,
    variable.read().dataSync() as Float32Array,
    variable.shape as [number, number],
  ); // [t, d]
  return ctx.g.op('Add', [x, rows]);
}

/** x / √(mean(x², −1) + ε) · scale. */
function rmsNorm(ctx: ConvertContext, layer: RMSNorm, x: string): string {
  const g = ctx.g;
  const scale = layer.weights[0]!;
  const meanSquare = g.op('ReduceMean', [g.op('Mul', [x, x])], {axes: [-1], keepdims: 1});
  const r = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [meanSquare, g.scalar(layer.epsilon)])])]);
  const gain = ctx.weights.float(
    scale.originalName,
    scale.read().dataSync() as Float32Array,
    scale.shape as number[],
  );
  return g.op('Mul', [g.op('Mul', [x, r]), gain], {}, layer.name);
}

/** down(silu(gate(x)) · up(x)). */
function swiglu(ctx: ConvertContext, layer: tf.layers.Layer, x: string): string {
  const g = ctx.g;
  const child = (p: string) =>
    (layer as unknown as {sublayers(): Map<string, tf.layers.Layer>}).sublayers().get(p)!;
  const gate = applyDense(ctx, child('gate'), x);
  const h = g.op('Mul', [g.op('Mul', [gate, g.op('Sigmoid', [gate])]), applyDense(ctx, child('up'), x)]);
  return applyDense(ctx, child('down'), h);
}

/** h = x + attn(norm(x)); y = h + ffn(norm(h)). Children convert through the same table. */
function decoderBlock(ctx: ConvertContext, layer: DecoderBlock, x: string): string {
  const g = ctx.g;
  const run = (path: string, input: string) =>
    convertLayer(ctx, layer.sublayers().get(path)!, [float(input)]).name;
  const h = g.op('Add', [x, run('attn', run('attn-norm', x))]);
  return g.op('Add', [h, run('ffn', run('ffn-norm', h))], {}, layer.name);
}

/** Mean of h [b, t, d] over the positions whose id is not padding → [b, d]. */
function maskedMeanPool(ctx: ConvertContext, layer: MaskedMeanPool, inputs: OnnxValue[]): string {
  const g = ctx.g;
  const [h, ids] = inputs as [OnnxValue, OnnxValue];
  const pad = g.int64s([layer.padId], []);
  const mask = g.op('Cast', [g.op('Not', [g.op('Equal', [ids.name, pad])])], {to: DType.float}); // [b, t]
  const summed = g.op(
    'ReduceSum',
    [g.op('Mul', [h.name, g.op('Unsqueeze', [mask, g.int64s([2])])]), g.int64s([1])],
    {
      keepdims: 0,
    },
  );
  const count = g.op('Max', [g.op('ReduceSum', [mask, g.int64s([1])], {keepdims: 1}), g.scalar(1)]);
  return g.op('Div', [summed, count], {}, layer.name);
}

/** ids [b, t] int64 → ids then their hashed bigrams [b, 2t − 1], as HashedBigrams computes them. */
function hashedBigrams(ctx: ConvertContext, layer: HashedBigrams, ids: string): string {
  const g = ctx.g;
  const i64 = (v: number) => g.int64s([v], []);
  const a = g.op('Slice', [ids, g.int64s([0]), g.int64s([-1]), g.int64s([1])]); // [b, t − 1]
  const b = g.op('Slice', [ids, g.int64s([1]), g.int64s([2 ** 31 - 1]), g.int64s([1])]);
  const range = i64(BIGRAM_ID_RANGE);
  const hashed = g.op('Mod', [
    g.op('Add', [g.op('Mul', [g.op('Mod', [a, range]), i64(BIGRAM_MULTIPLIER)]), g.op('Mod', [b, range])]),
    i64(layer.buckets),
  ]);
  const pad = i64(layer.padId);
  const real = g.op('And', [g.op('Not', [g.op('Equal', [a, pad])]), g.op('Not', [g.op('Equal', [b, pad])])]);
  const bigrams = g.op('Where', [real, g.op('Add', [hashed, i64(layer.vocabSize)]), pad]);
  return g.op('Concat', [ids, bigrams], {axis: 1}, layer.name);
}
