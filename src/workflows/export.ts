import {stat} from 'node:fs/promises';
import {join} from 'node:path';
import {packageInfo} from '../backend/info.js';
import {type ExportOptions, type ExportReport, exportModel} from '../compress/export.js';
import type {MetricKey} from '../compress/format-report.js';
import {loadModelFolder} from '../compress/model-folder.js';
import {assertOutsideInputs} from '../fs/path-relation.js';
import {type ExportMetadata, parseExportMetadata} from '../models/export-metadata.js';
import type {ModelKind, OpenRun} from '../models/model-kind.js';
import {openRun} from '../models/registry.js';
import {RUN_FILES} from '../run/run-folder.js';
import {demoFiles} from './export-demo.js';
import {hfTokenizerConfig} from './export-tokenizer-config.js';
import {metricBeforeAfter} from './run-metric.js';

export interface ExportRunOptions
  extends Omit<ExportOptions, 'tokenizerFile' | 'labels' | 'metadata' | 'files'> {
  /** Run folder to read (runs/NAME). */
  model: string;
  /** Folder to write the browser model to. */
  out: string;
  /** Labeled (classifier) or text (LM) file: report the metric before and after export. */
  eval?: string;
  /** Also write index.html and the runtime bundle: a page that runs the model (export-demo.ts). */
  demo?: boolean;
  /** The standalone runtime bundle the demo copies; default the one `npm run build` writes. */
  demoBundle?: string;
}

export type ExportRunReport = ExportReport & Partial<Record<MetricKey, number>>;

/** tokenizer_config.json: what Python transformers' AutoTokenizer reads beside tokenizer.json. */
export const TOKENIZER_CONFIG = 'tokenizer_config.json';

/**
 * Exports a run folder for the browser: its model (LoRA fused, weights encoded as `dtype`) with
 * the metadata the runtime reads in model.json, its tokenizer.json with a tokenizer_config.json,
 * labels.json, and with `demo` a page that runs it. With `eval`, the export is loaded back and scored.
 */
export async function exportRun(options: ExportRunOptions): Promise<ExportRunReport> {
  await assertOutsideInputs(options.out, [options.model, options.eval], `--out ${options.out}`);
  const {kind, run} = await openRun(options.model);
  try {
    const metadata = exportMetadata(kind, run);
    const tokenizerConfig = hfTokenizerConfig(run.tokenizer, metadata);
    const files = {
      ...(tokenizerConfig ? {[TOKENIZER_CONFIG]: `${JSON.stringify(tokenizerConfig, null, 2)}\n`} : {}),
      ...(options.demo ? await demoFiles(metadata, options.demoBundle) : {}),
    };
    const tokenizerFile = join(options.model, RUN_FILES.tokenizer);
    const report = await exportModel(run.model, options.out, {
      ...options,
      tokenizerFile: (await stat(tokenizerFile).catch(() => null)) ? tokenizerFile : undefined,
      labels: run.labels,
      metadata,
      files,
    });
    if (!options.eval) return report;
    const exported = await loadModelFolder(options.out);
    try {
      return {...report, ...(await metricBeforeAfter(kind, run, exported, options.eval))};
    } finally {
      exported.dispose();
    }
  } finally {
    run.model.dispose();
  }
}

/** The kind's metadata with the kit's version, checked as the runtime will read it. */
export function exportMetadata(kind: ModelKind, run: OpenRun): ExportMetadata {
  const metadata = {kitVersion: packageInfo().version, ...kind.metadata(run)};
  return parseExportMetadata(JSON.parse(JSON.stringify(metadata)), `${run.dir} (${kind.id})`);
}
