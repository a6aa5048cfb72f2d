import type {OnnxIO} from '../onnx/model-to-onnx.js';
import type {OnnxExportRunReport} from './export-onnx.js';

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const io = (v: OnnxIO) => `${v.name} [${v.shape.join(', ')}] ${v.dtype}`;

/** The human summary `export --format onnx` prints on stdout. */
export function formatOnnxExportReport(r: OnnxExportRunReport): string {
  const ops = Object.entries(r.ops)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([op, n]) => `${op} ${n}`)
    .join(', ');
  const encoding =
    r.quantize === 'int8'
      ? `int8 (${r.int8_kernel === 'integer' ? 'MatMulInteger' : 'DequantizeLinear'}), ${r.weights.filter((w) => w.encoding.startsWith('int8')).length} of ${r.weights.length} weights`
      : 'float32';
  const pastInputs = r.inputs.filter((v) => v.name.startsWith('past_key_values.'));
  const inputs = r.inputs.filter((v) => !v.name.startsWith('past_key_values.')).map(io);
  if (pastInputs.length > 0)
    inputs.push(`${pastInputs.length} past_key_values.* ${`[${pastInputs[0]!.shape.join(', ')}]`}`);
  const outputs = r.outputs.filter((v) => !v.name.startsWith('present.')).map(io);
  if (pastInputs.length > 0) outputs.push(`${pastInputs.length} present.*`);
  return [
    `${r.kind}: ONNX opset ${r.opset}, ${r.nodes} nodes (${ops})${r.ops.TopK ? `, MoE as a ${r.moe} graph` : ''}`,
    `weights   ${encoding}: ${kb(r.float32_bytes)} as float32 → ${kb(r.weight_bytes)}`,
    `inputs    ${inputs.join(', ')}`,
    `outputs   ${outputs.join(', ')}`,
    `wrote ${r.out}: ${r.files.map((f) => `${f.name} ${kb(f.bytes)}`).join(', ')}`,
  ].join('\n');
}
