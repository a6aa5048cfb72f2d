import {stat} from 'node:fs/promises';
import {join} from 'node:path';
import {type ExportOptions, type ExportReport, exportModel} from '../compress/export.js';
import type {MetricKey} from '../compress/format-report.js';
import {loadModelFolder} from '../compress/model-folder.js';
import {assertOutsideInputs} from '../fs/path-relation.js';
import {openRun} from '../models/registry.js';
import {RUN_FILES} from '../run/run-folder.js';
import {metricBeforeAfter} from './run-metric.js';

export interface ExportRunOptions extends Omit<ExportOptions, 'tokenizerFile' | 'labels' | 'metadata'> {
  /** Run folder to read (runs/NAME). */
  model: string;
  /** Folder to write the browser model to. */
  out: string;
  /** Labeled (classifier) or text (LM) file: report the metric before and after export. */
  eval?: string;
}

export type ExportRunReport = ExportReport & Partial<Record<MetricKey, number>>;

/**
 * Exports a run folder for the browser: its model (LoRA fused, weights encoded as `dtype`), its
 * tokenizer.json and labels.json. With `eval`, the exported model is loaded back and scored.
 */
export async function exportRun(options: ExportRunOptions): Promise<ExportRunReport> {
  await assertOutsideInputs(options.out, [options.model, options.eval], `--out ${options.out}`);
  const {kind, run} = await openRun(options.model);
  try {
    const tokenizerFile = join(options.model, RUN_FILES.tokenizer);
    const report = await exportModel(run.model, options.out, {
      ...options,
      tokenizerFile: (await stat(tokenizerFile).catch(() => null)) ? tokenizerFile : undefined,
      labels: run.labels,
      metadata: kind.metadata(run),
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
