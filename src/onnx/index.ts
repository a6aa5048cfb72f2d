// A kit LayersModel as ONNX bytes (issue 21): the graph builder, one converter per layer class, int8
// weights; the export workflow (src/workflows/export-onnx.ts) writes a run folder's model with it.
export {MOE_GRAPHS, type MoEGraph, type OnnxValue} from './convert-context.js';
export {type LayerConverter, ONNX_CONVERTERS} from './convert-layers.js';
export {type ModelToOnnxOptions, type ModelToOnnxReport, modelToOnnx, type OnnxIO} from './model-to-onnx.js';
export {IR_VERSION as ONNX_IR_VERSION, OPSET as ONNX_OPSET} from './onnx-graph.js';
export {
  INT8_KERNELS,
  type Int8Kernel,
  ONNX_QUANTIZE,
  type OnnxQuantize,
  type OnnxWeightOptions,
  type OnnxWeightRow,
} from './onnx-weights.js';
