// The ONNX export's public API (issue 21); src/index.ts re-exports it.
export {MOE_GRAPHS, type MoEGraph, type OnnxValue} from './convert-context.js';
export {type LayerConverter, ONNX_CONVERTERS} from './convert-layers.js';
export {
  exportOnnxRun,
  ONNX_MODEL_FILE,
  type OnnxExportRunOptions,
  type OnnxExportRunReport,
  type OnnxModelKind,
} from './export-onnx-run.js';
export {formatOnnxExportReport} from './format-onnx-report.js';
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
