import {copyFile, stat} from 'node:fs/promises';
import {join} from 'node:path';
import type {MetricKey} from '../compress/format-report.js';
import {writeModelFolder} from '../compress/model-folder.js';
import {type QuantizeReport, quantizeModel} from '../compress/quantize-model.js';
import type {EncodeOptions} from '../compress/weight-codec.js';
import {writeOutputFolder} from '../fs/output-folder.js';
import {refuseExportFolder} from '../models/export-folder.js';
import {loadKindRun} from '../models/registry.js';
import {RUN_FILES} from '../run/run-folder.js';
import {metricBeforeAfter} from './run-metric.js';

export interface QuantizeRunOptions extends EncodeOptions {
  /** Run folder to read (runs/NAME). */
  model: string;
  /** Run folder to write: the same run with its weights quantized. */
  out: string;
  /** Labeled (classifier) or text (LM) file: report the metric before and after. */
  eval?: string;
  /** Replace an `out` folder that already holds files. */
  overwrite?: boolean;
}

export type QuantizeRunReport = QuantizeReport & {model: string; out: string} & Partial<
    Record<MetricKey, number>
  >;

/** Files of a run folder that a quantized copy keeps (training logs and checkpoints stay behind). */
const KEPT = [RUN_FILES.config, RUN_FILES.tokenizer, RUN_FILES.labels];

/**
 * Post-training quantization of a run folder: writes `out` with config, tokenizer and labels copied
 * and `model/` in the quantized encoding (the kit's loaders dequantize at load), and reports sizes,
 * weight errors and, with `eval`, the metric before and after.
 */
export async function quantizeRun(options: QuantizeRunOptions): Promise<QuantizeRunReport> {
  await refuseExportFolder(options.model, 'quantize');
  return writeOutputFolder(
    options.out,
    {inputs: [options.model, options.eval], overwrite: options.overwrite},
    (tmp) => quantizeInto(tmp, options),
  );
}

/** The quantized run, written into the folder `tmp`. */
async function quantizeInto(tmp: string, options: QuantizeRunOptions): Promise<QuantizeRunReport> {
  const {kind, loaded: run, open} = await loadKindRun(options.model);
  const quantized = await quantizeModel(run.model, options);
  try {
    await writeModelFolder(join(tmp, RUN_FILES.model), quantized.artifacts, {
      userDefinedMetadata: {
        deepseek_kit: {quantize: options.dtype, granularity: quantized.report.granularity},
      },
    });
    // The loader read these under the containment rule; copy them as they are.
    for (const name of KEPT) {
      const from = join(options.model, name);
      if (await stat(from).catch(() => null)) await copyFile(from, join(tmp, name));
    }
    const change = options.eval ? await metricBeforeAfter(kind, open(), quantized.model, options.eval) : {};
    return {model: options.model, out: options.out, ...quantized.report, ...change};
  } finally {
    run.model.dispose();
    quantized.model.dispose();
  }
}
