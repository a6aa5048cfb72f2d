import {stat} from 'node:fs/promises';
import {join} from 'node:path';
import {type ExportOptions, type ExportReport, exportModel} from '../compress/export.js';
import type {MetricKey} from '../compress/format-report.js';
import {loadModelFolder} from '../compress/model-folder.js';
import {loadRun, RUN_FILES} from '../run/run-folder.js';
import {metricChange, runMetric} from './run-metric.js';

export interface ExportRunOptions extends Omit<ExportOptions, 'tokenizerFile' | 'labels'> {
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
  const run = await loadRun(options.model);
  try {
    const tokenizerFile = join(options.model, RUN_FILES.tokenizer);
    const report = await exportModel(run.model, options.out, {
      ...options,
      tokenizerFile: (await stat(tokenizerFile).catch(() => null)) ? tokenizerFile : undefined,
      labels: run.labels,
    });
    if (!options.eval) return report;
    const exported = await loadModelFolder(options.out);
    try {
      const before = await runMetric(run, run.model, options.eval, options.model);
      const after = await runMetric(run, exported, options.eval);
      return {...report, ...metricChange(before, after)};
    } finally {
      exported.dispose();
    }
  } finally {
    run.model.dispose();
  }
}
