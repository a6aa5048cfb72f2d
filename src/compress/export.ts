import {copyFile, stat, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import {writeOutputFolder} from '../fs/output-folder.js';
import {folderBytes, writeModelFolder} from './model-folder.js';
import {type QuantizeReport, quantizeModel} from './quantize-model.js';
import {type EncodeOptions, needsDecoding} from './weight-codec.js';

export interface ExportOptions extends EncodeOptions {
  /** A tokenizer.json to copy into the export. */
  tokenizerFile?: string;
  /** Class names, written as labels.json. */
  labels?: readonly string[];
  /** What a runtime needs to run the model (its kind's ModelMetadata), kept in model.json as `deepseek_kit.model`. */
  metadata?: object;
  /** More files to write beside the model, name → content (tokenizer_config.json, a demo page). */
  files?: Readonly<Record<string, string | Uint8Array>>;
  /** Replace a folder that already holds files. */
  overwrite?: boolean;
}

export interface ExportReport extends Omit<QuantizeReport, 'rows'> {
  out: string;
  /** Files written and their bytes. */
  files: {name: string; bytes: number}[];
  /** model.json + weight shards, in bytes. */
  model_bytes: number;
  /** True when the weights use the kit's int8/int4 encoding: load with `deepseek-kit/runtime`'s loadModel. */
  needs_runtime: boolean;
  rows: QuantizeReport['rows'];
}

/**
 * Writes `model` to `out` as a tfjs LayersModel a browser loads: model.json + shards of at most
 * 4 MB, LoRA fused, no optimizer state or training config, weights encoded as `options.dtype`
 * says, plus tokenizer.json and labels.json when given. `none`/`float16`/`uint16`/`uint8` load
 * with stock `tf.loadLayersModel`; `int8`/`int4` with the kit's runtime `loadModel`.
 */
export async function exportModel(
  model: tf.LayersModel,
  out: string,
  options: ExportOptions,
): Promise<ExportReport> {
  return writeOutputFolder(out, {overwrite: options.overwrite}, (tmp) =>
    exportInto(tmp, model, out, options),
  );
}

/** The export, written into the folder `tmp`. */
async function exportInto(
  tmp: string,
  model: tf.LayersModel,
  out: string,
  options: ExportOptions,
): Promise<ExportReport> {
  const quantized = await quantizeModel(model, options);
  quantized.model.dispose();
  const {artifacts, report} = quantized;
  const needsRuntime = needsDecoding(artifacts.weightSpecs ?? []);
  const written = await writeModelFolder(tmp, artifacts, {
    userDefinedMetadata: {
      deepseek_kit: {
        quantize: options.dtype,
        granularity: report.granularity,
        needs_runtime: needsRuntime,
        ...(options.metadata ? {model: options.metadata} : {}),
      },
    },
  });
  const files = [...written.files];
  if (options.tokenizerFile) {
    await copyFile(options.tokenizerFile, join(tmp, 'tokenizer.json'));
    files.push('tokenizer.json');
  }
  if (options.labels) {
    await writeFile(join(tmp, 'labels.json'), `${JSON.stringify(options.labels)}\n`);
    files.push('labels.json');
  }
  for (const [name, content] of Object.entries(options.files ?? {})) {
    await writeFile(join(tmp, name), content);
    files.push(name);
  }
  const sizes = await Promise.all(
    files.map(async (name) => ({name, bytes: (await stat(join(tmp, name))).size})),
  );
  const modelBytes = await folderBytes(tmp, written.files);
  return {...report, out, files: sizes, model_bytes: modelBytes, needs_runtime: needsRuntime};
}
