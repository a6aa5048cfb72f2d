import {copyFile, mkdir, readdir, stat, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {packageInfo} from '../backend/info.js';
import {ConfigError} from '../errors.js';
import {writeOutputFolder} from '../fs/output-folder.js';
import type {ModelMetadata, OpenRun} from '../models/model-kind.js';
import {openRun} from '../models/registry.js';
import {MOE_GRAPHS, type MoEGraph} from '../onnx/convert-context.js';
import {type ModelToOnnxOptions, type ModelToOnnxReport, modelToOnnx} from '../onnx/model-to-onnx.js';
import {INT8_KERNELS, type Int8Kernel, ONNX_QUANTIZE, type OnnxQuantize} from '../onnx/onnx-weights.js';
import {RUN_FILES} from '../run/run-folder.js';

export interface OnnxExportRunOptions {
  /** Run folder to read (runs/NAME). */
  model: string;
  /** Folder to write model.onnx (+ tokenizer.json, labels.json) to. */
  out: string;
  /** `none` (float32, default) or `int8`. */
  quantize?: string;
  /** int8: one scale per output channel (default) or per tensor. */
  granularity?: 'per-channel' | 'per-tensor';
  /** int8: weights whose name matches stay float32 (default /norm|router/). */
  skip?: RegExp | null;
  /** int8 scales per group need opset 21: only 0 (the whole input axis) is accepted. */
  groupSize?: number;
  /** int8: DequantizeLinear + MatMul (default) or MatMulInteger. */
  int8Kernel?: Int8Kernel;
  /** MoE layers as a `dense` (default) or `sparse` graph. */
  moe?: MoEGraph;
  /** Replace an --out folder that already holds files. */
  overwrite?: boolean;
  /** Not for ONNX (scoring needs an ONNX runtime): a ConfigError when set. */
  eval?: string;
}

/** The model file of an ONNX export. */
export const ONNX_MODEL_FILE = 'model.onnx';

/** What kind of model the export holds; runtimes read it from the model's metadata too. */
export type OnnxModelKind = 'text-classifier' | 'feature-classifier' | 'causal-lm';

export interface OnnxExportRunReport extends Omit<ModelToOnnxReport, 'weights'> {
  format: 'onnx';
  kind: OnnxModelKind;
  out: string;
  files: {name: string; bytes: number}[];
  /** model.onnx in bytes. */
  model_bytes: number;
  weights: ModelToOnnxReport['weights'];
}

/**
 * Exports a run folder as ONNX: `model.onnx` (opset 17; LoRA fused; weights float32 or int8), the
 * run's tokenizer.json and labels.json beside it. Causal LMs get past key/value inputs and present
 * outputs for incremental decoding; feature classifiers take raw features and standardize them in
 * the graph; classifiers output `logits` and `probabilities`. The model's metadata_props carry the
 * kind, labels, special token ids and lengths a runtime needs.
 */
export async function exportOnnxRun(options: OnnxExportRunOptions): Promise<OnnxExportRunReport> {
  const quantize = checkOptions(options);
  return writeOutputFolder(
    options.out,
    {inputs: [options.model, options.eval], overwrite: options.overwrite},
    (tmp) => exportOnnxInto(tmp, options, quantize),
  );
}

/** The export itself, written into the folder `tmp`. */
async function exportOnnxInto(
  tmp: string,
  options: OnnxExportRunOptions,
  quantize: OnnxQuantize,
): Promise<OnnxExportRunReport> {
  const {kind: modelKind, run} = await openRun(options.model);
  try {
    const {kind, settings} = onnxSettings(modelKind.metadata(run));
    const {bytes, report} = modelToOnnx(run.model, {
      ...settings,
      quantize,
      granularity: options.granularity,
      skip: options.skip,
      int8Kernel: options.int8Kernel,
      moe: options.moe,
      producerVersion: packageInfo().version,
    });
    await writeFolder(tmp, bytes, run);
    const names = await readdir(tmp);
    const files = await Promise.all(
      names.map(async (name) => ({name, bytes: (await stat(join(tmp, name))).size})),
    );
    return {...report, format: 'onnx', kind, out: options.out, files, model_bytes: bytes.byteLength};
  } finally {
    run.model.dispose();
  }
}

function checkOptions(options: OnnxExportRunOptions): OnnxQuantize {
  if (options.eval) {
    throw new ConfigError(
      '--eval scores tfjs exports; an ONNX export is checked in ONNX Runtime instead',
      'drop --eval (README "ONNX" shows how to run model.onnx)',
    );
  }
  const quantize = options.quantize ?? 'none';
  if (!(ONNX_QUANTIZE as readonly string[]).includes(quantize)) {
    throw new ConfigError(
      `--format onnx takes --quantize ${ONNX_QUANTIZE.join(' or ')}, not ${quantize}`,
      'int8 keeps a quarter of the float32 bytes; the other encodings are for --format tfjs',
    );
  }
  if (options.groupSize) {
    throw new ConfigError(
      '--format onnx does not take --group-size: per-group int8 scales need ONNX opset 21, the export writes 17',
    );
  }
  if (options.int8Kernel && !INT8_KERNELS.includes(options.int8Kernel)) {
    throw new ConfigError(`unknown int8 kernel '${options.int8Kernel}' — use ${INT8_KERNELS.join(' or ')}`);
  }
  if (options.moe && !MOE_GRAPHS.includes(options.moe)) {
    throw new ConfigError(`unknown MoE graph '${options.moe}' — use ${MOE_GRAPHS.join(' or ')}`);
  }
  return quantize as OnnxQuantize;
}

/** The export settings and metadata_props for a run, from its kind's metadata (what any export needs). */
function onnxSettings(meta: ModelMetadata): {kind: OnnxModelKind; settings: ModelToOnnxOptions} {
  const kind = meta.kind as OnnxModelKind;
  if (meta.output === 'token-logits') {
    return {
      kind,
      settings: {
        pastKeyValues: true,
        maxPositions: meta.contextLength,
        metadata: metadata(kind, {
          context_length: meta.contextLength,
          bos_token_id: meta.specialTokens?.bos,
          eos_token_id: meta.specialTokens?.eos,
          vocab_size: meta.vocabSize,
        }),
      },
    };
  }
  if (meta.features) {
    return {
      kind,
      settings: {
        standardize: meta.features,
        probabilities: true,
        metadata: metadata(kind, {labels: meta.labels, feature_columns: meta.features.columns}),
      },
    };
  }
  return {
    kind,
    settings: {
      probabilities: true,
      maxPositions: meta.maxLen,
      metadata: metadata(kind, {
        labels: meta.labels,
        max_length: meta.maxLen,
        pad_token_id: meta.specialTokens?.pad ?? 0,
      }),
    },
  };
}

/** metadata_props: strings, JSON for anything else; undefined values left out. */
function metadata(kind: OnnxModelKind, fields: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {'deepseek_kit.kind': kind};
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined)
      out[`deepseek_kit.${key}`] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return out;
}

/** model.onnx, the run's tokenizer.json (as the run holds it, else as loaded) and labels.json. */
async function writeFolder(dir: string, bytes: Uint8Array, run: OpenRun): Promise<void> {
  await mkdir(dir, {recursive: true});
  await writeFile(join(dir, ONNX_MODEL_FILE), bytes);
  const tokenizer = join(run.dir, RUN_FILES.tokenizer);
  if (await stat(tokenizer).catch(() => null)) await copyFile(tokenizer, join(dir, RUN_FILES.tokenizer));
  else if (run.tokenizer) await run.tokenizer.save(join(dir, RUN_FILES.tokenizer));
  if (run.labels) await writeFile(join(dir, RUN_FILES.labels), `${JSON.stringify(run.labels)}\n`);
}
