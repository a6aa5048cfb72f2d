import {Flags} from '@oclif/core';
import {ModelCommand} from '../cli/model-command.js';
import {encodeOptionsFrom, quantizeFlags} from '../cli/quantize-flags.js';
import {formatQuantizeReport} from '../compress/format-report.js';
import {type ExportRunReport, exportRun} from '../workflows/export.js';
import {exportOnnxRun, type OnnxExportRunReport} from '../workflows/export-onnx.js';
import {formatOnnxExportReport} from '../workflows/format-onnx-report.js';

export default class Export extends ModelCommand {
  static override enableJsonFlag = true;
  static override summary =
    'Export a trained run as a tfjs model a browser loads (model.json + 4 MB shards).';
  static override description =
    'LoRA is fused and training-only parts dropped; tokenizer.json and labels.json are included. ' +
    '--quantize none|float16|uint16|uint8 use tfjs’s own weight formats (stock tf.loadLayersModel loads them); ' +
    'int8|int4 are per-channel and load with loadModel from deepseek-kit/runtime, which also registers the kit’s layers. ' +
    'model.json carries what the runtime needs (kind, labels, maxLen, special tokens, feature standardization); ' +
    'tokenizer_config.json lets Python transformers’ AutoTokenizer read the tokenizer; --demo adds a page. ' +
    '--format onnx writes model.onnx (opset 17, --quantize none|int8) for ONNX Runtime, with tokenizer.json and labels.json.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --model runs/imdb --out web/imdb --quantize int8',
    '<%= config.bin %> <%= command.id %> --model runs/imdb --out web/imdb-f16 --quantize float16 --eval fixtures/imdb/test.jsonl --json',
    '<%= config.bin %> <%= command.id %> --model runs/moby --out onnx/moby --format onnx --quantize int8',
    '<%= config.bin %> <%= command.id %> --model runs/imdb --out web/imdb-demo --quantize int8 --demo',
  ];
  static override flags = {
    model: Flags.string({summary: 'Run folder to export (runs/NAME).', required: true}),
    out: Flags.string({summary: 'Folder to write the browser model to.', required: true}),
    format: Flags.string({
      summary: 'tfjs (a LayersModel for the browser) or onnx (model.onnx for ONNX Runtime).',
      options: ['tfjs', 'onnx'],
      default: 'tfjs',
    }),
    quantize: Flags.string({
      summary: 'Weight encoding.',
      options: ['none', 'float16', 'uint16', 'uint8', 'int8', 'int4'],
      default: 'none',
    }),
    ...quantizeFlags,
    demo: Flags.boolean({
      summary:
        'tfjs: also write index.html and the runtime bundle, a page that runs the model (serve the folder over HTTP).',
      default: false,
    }),
    'moe-graph': Flags.string({
      summary:
        'onnx: MoE layers as a dense graph (every expert on every token) or a sparse one (k experts per token).',
      options: ['dense', 'sparse'],
      default: 'dense',
    }),
    'int8-kernel': Flags.string({
      summary: 'onnx --quantize int8: DequantizeLinear + MatMul, or MatMulInteger on quantized inputs.',
      options: ['dequantize', 'integer'],
      default: 'dequantize',
    }),
  };

  async run(): Promise<ExportRunReport | OnnxExportRunReport> {
    const {flags} = await this.parse(Export);
    await this.startBackend(flags.backend);
    if (flags.format === 'onnx') {
      // ONNX (src/onnx): its own writer and report.
      const report = await exportOnnxRun({
        model: flags.model,
        out: flags.out,
        overwrite: flags.overwrite,
        eval: flags.eval,
        ...encodeOptionsFrom(flags.quantize, flags),
        quantize: flags.quantize,
        moe: flags['moe-graph'] as 'dense' | 'sparse',
        int8Kernel: flags['int8-kernel'] as 'dequantize' | 'integer',
      });
      if (!this.jsonEnabled()) this.log(formatOnnxExportReport(report));
      return report;
    }
    const report = await exportRun({
      model: flags.model,
      out: flags.out,
      eval: flags.eval,
      overwrite: flags.overwrite,
      demo: flags.demo,
      ...encodeOptionsFrom(flags.quantize, flags),
    });
    if (!this.jsonEnabled()) {
      const files = report.files.map((f) => `${f.name} ${(f.bytes / 1024).toFixed(1)} KB`).join(', ');
      this.log(
        `${formatQuantizeReport(report)}\nwrote ${flags.out}: ${files}` +
          (report.needs_runtime ? "\nload it with loadModel from 'deepseek-kit/runtime'" : ''),
      );
    }
    return report;
  }
}
