import type {QuantizeReport} from './quantize-model.js';

/** Metric fields a report carries with --eval. */
export type MetricKey = 'accuracy_before' | 'accuracy_after' | 'perplexity_before' | 'perplexity_after';

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

/** `int4 g32` (a scale per group of 32 inputs), `int8 per-channel`, `int8 per-tensor`, `float16`. */
export function encodingName(report: Pick<QuantizeReport, 'dtype' | 'granularity' | 'group_size'>): string {
  if (!report.dtype.startsWith('int')) return report.dtype;
  return `${report.dtype} ${report.group_size > 0 ? `g${report.group_size}` : report.granularity}`;
}

/** The human summary of a quantize or export report: sizes, weight error, metric change. */
export function formatQuantizeReport(
  report: Omit<QuantizeReport, 'rows'> & Partial<Record<MetricKey, number>>,
): string {
  const lines = [
    `${encodingName(report)}: weights ${kb(report.size_bytes_before)} → ${kb(report.size_bytes_after)} ` +
      `(${((100 * report.size_bytes_after) / Math.max(1, report.size_bytes_before)).toFixed(1)}%)`,
    `weight error  max ${report.max_abs_error.toExponential(2)}  mean ${report.mean_abs_error.toExponential(2)}  ` +
      `(${report.quantized_weights} weights encoded, ${report.kept_weights} kept${report.skip ? `, skip /${report.skip}/` : ''})`,
  ];
  const num = (k: MetricKey) => report[k];
  const accBefore = num('accuracy_before');
  const accAfter = num('accuracy_after');
  if (accBefore !== undefined && accAfter !== undefined) {
    lines.push(
      `accuracy      ${(100 * accBefore).toFixed(2)}% → ${(100 * accAfter).toFixed(2)}% (${(100 * (accAfter - accBefore)).toFixed(2)} points)`,
    );
  }
  const pplBefore = num('perplexity_before');
  const pplAfter = num('perplexity_after');
  if (pplBefore !== undefined && pplAfter !== undefined) {
    lines.push(`perplexity    ${pplBefore.toFixed(3)} → ${pplAfter.toFixed(3)}`);
  }
  return lines.join('\n');
}
