import * as tf from '@tensorflow/tfjs';
import {ConfigError, ModelError} from '../errors.js';
import {Attention} from '../layers/attention.js';
import {hasSublayers} from '../layers/composite-layer.js';
import {ConvertContext, type MoEGraph, type OnnxValue} from './convert-context.js';
import {convertLayer} from './convert-layers.js';
import {type Dim, DType, GraphBuilder, type GraphSummary, IR_VERSION, OPSET} from './onnx-graph.js';
import {type OnnxWeightOptions, type OnnxWeightRow, OnnxWeights} from './onnx-weights.js';

export interface ModelToOnnxOptions extends OnnxWeightOptions {
  /** MoE layers as `dense` (every expert on every token, default) or `sparse` (k experts per token). */
  moe?: MoEGraph;
  /** The longest sequence the model reads (RoPE tables hold this many positions). Default: the model's fixed input length. */
  maxPositions?: number;
  /** Causal LMs: `past_key_values.i.key|value` inputs and `present.i.key|value` outputs. Default false. */
  pastKeyValues?: boolean;
  /** Numeric features: the graph takes raw values and standardizes them, (x − mean) / std. */
  standardize?: {mean: readonly number[]; std: readonly number[]};
  /** Classifiers: a `probabilities` output, the softmax of the logits. Default false. */
  probabilities?: boolean;
  /** Written as the model's metadata_props (labels, special token ids…). */
  metadata?: Record<string, string>;
  /** The package version written as producer_version. */
  producerVersion?: string;
}

/** One graph input or output. */
export interface OnnxIO {
  name: string;
  dtype: 'float32' | 'int64';
  shape: Dim[];
}

export interface ModelToOnnxReport extends GraphSummary {
  opset: number;
  ir_version: number;
  quantize: string;
  int8_kernel: string | null;
  moe: MoEGraph;
  inputs: OnnxIO[];
  outputs: OnnxIO[];
  /** Bytes of the weights as exported, and as float32. */
  weight_bytes: number;
  float32_bytes: number;
  weights: OnnxWeightRow[];
}

/**
 * A kit LayersModel as ONNX model bytes. Walks the model's layer applications in order and converts
 * each (src/onnx/convert-layers.ts lists the classes; anything else is a ModelError naming the
 * layer); LoRA adapters are merged into their base weights. Token models take `input_ids` int64
 * [batch, sequence], feature models `features` float32 [batch, F]; the output is `logits`.
 */
export function modelToOnnx(
  model: tf.LayersModel,
  options: ModelToOnnxOptions = {},
): {bytes: Uint8Array; report: ModelToOnnxReport} {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new ModelError(
      `ONNX export: model '${model.name}' has ${model.inputs.length} inputs and ${model.outputs.length} outputs; the exporter takes one of each`,
    );
  }
  const g = new GraphBuilder();
  const weights = new OnnxWeights(g, options);
  const moe = options.moe ?? 'dense';
  const inputs: OnnxIO[] = [];
  const input = model.inputs[0]!;
  const tokens = input.dtype === 'int32';
  let inputValue: OnnxValue;
  if (tokens) {
    inputs.push({name: 'input_ids', dtype: 'int64', shape: ['batch', 'sequence']});
    inputValue = {name: g.input('input_ids', DType.int64, ['batch', 'sequence']), dtype: 'int64'};
  } else {
    const shape: Dim[] = input.shape.map((d, i) => (i === 0 ? 'batch' : d === null ? 'sequence' : d));
    inputs.push({name: 'features', dtype: 'float32', shape});
    let x = g.input('features', DType.float, shape);
    if (options.standardize) x = standardize(g, x, options.standardize, shape.at(-1) as number);
    inputValue = {name: x, dtype: 'float32'};
  }
  const fixedLength = input.shape.length >= 2 && typeof input.shape[1] === 'number' ? input.shape[1] : null;
  const ctx = new ConvertContext(g, weights, {
    moe,
    maxPositions: options.maxPositions ?? fixedLength,
    sequence: input.shape.length >= 2 ? inputValue.name : null,
  });
  const attention = attentionLayers(model);
  if (options.pastKeyValues) {
    if (attention.length === 0) throw new ConfigError('ONNX export: past key/values need attention layers');
    ctx.declareKVCache(attention.map((a) => ({kvHeads: a.numKvHeads, headDim: a.headDim})));
    for (const pair of ctx.kv) {
      for (const name of [pair.pastKey, pair.pastValue]) {
        inputs.push({name, dtype: 'float32', shape: ['batch', pair.kvHeads, 'past_sequence', pair.headDim]});
      }
    }
  }
  const values = new Map<number, OnnxValue>([[input.id, inputValue]]);
  // Deepest first is execution order (tfjs's own `execute` walks nodesByDepth the same way).
  const depths = Object.keys(model.nodesByDepth)
    .map(Number)
    .sort((a, b) => b - a);
  for (const depth of depths) {
    for (const node of model.nodesByDepth[depth]!) {
      const layer = node.outboundLayer;
      if (layer instanceof tf.layers.Layer && layer.getClassName() === 'InputLayer') continue;
      const ins = node.inputTensors.map((t) => {
        const v = values.get(t.id);
        if (!v) throw new Error(`ONNX export: no value for the input of '${layer.name}'`);
        return v;
      });
      const out = convertLayer(ctx, layer, ins);
      for (const t of node.outputTensors) values.set(t.id, out);
    }
  }
  const logits = values.get(model.outputs[0]!.id)!;
  const outShape: Dim[] = model.outputs[0]!.shape.map((d, i) =>
    i === 0 ? 'batch' : d === null ? 'sequence' : (d as number),
  );
  const outputs: OnnxIO[] = [{name: 'logits', dtype: 'float32', shape: outShape}];
  g.output(logits.name, 'logits', DType.float, outShape);
  if (options.probabilities) {
    g.output(g.op('Softmax', [logits.name], {axis: -1}), 'probabilities', DType.float, outShape);
    outputs.push({name: 'probabilities', dtype: 'float32', shape: outShape});
  }
  for (const pair of ctx.kv) {
    for (const name of [pair.presentKey, pair.presentValue]) {
      const shape: Dim[] = ['batch', pair.kvHeads, 'total_sequence', pair.headDim];
      g.output(name, name, DType.float, shape);
      outputs.push({name, dtype: 'float32', shape});
    }
  }
  const bytes = g.toBytes({
    graphName: model.name,
    producerVersion: options.producerVersion ?? '',
    metadata: options.metadata ?? {},
  });
  const float32Bytes = weights.rows.reduce((sum, r) => sum + 4 * r.shape.reduce((a, b) => a * b, 1), 0);
  return {
    bytes,
    report: {
      opset: OPSET,
      ir_version: IR_VERSION,
      quantize: options.quantize ?? 'none',
      int8_kernel: options.quantize === 'int8' ? weights.int8Kernel : null,
      moe,
      inputs,
      outputs,
      ...g.summary(),
      weight_bytes: weights.bytes,
      float32_bytes: float32Bytes,
      weights: weights.rows,
    },
  };
}

/** (x − mean) / std per column, as the kit standardizes features before its model. */
function standardize(
  g: GraphBuilder,
  x: string,
  stats: {mean: readonly number[]; std: readonly number[]},
  width: number,
): string {
  if (stats.mean.length !== width || stats.std.length !== width) {
    throw new ModelError(
      `ONNX export: feature statistics have ${stats.mean.length} columns, the model takes ${width}`,
    );
  }
  const mean = g.floats('features_mean', stats.mean, [width]);
  const std = g.floats('features_std', stats.std, [width]);
  return g.op('Div', [g.op('Sub', [x, mean]), std], {}, 'standardized');
}

/** The model's attention layers in layer order, inside blocks too. */
function attentionLayers(model: tf.LayersModel): Attention[] {
  const found: Attention[] = [];
  const visit = (layer: tf.layers.Layer) => {
    if (layer instanceof Attention) found.push(layer);
    else if (hasSublayers(layer)) for (const child of layer.sublayers().values()) visit(child);
  };
  for (const layer of model.layers) visit(layer);
  return found;
}
