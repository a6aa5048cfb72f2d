import {argmaxRows} from '../models/classify/classification-metrics.js';
import {openRun} from '../models/registry.js';
import {
  categoricalReference,
  type DriftReference,
  numericReference,
  type StatisticReference,
  saveDriftReference,
} from '../monitor/drift-reference.js';
import {DRIFT_STATISTICS, tokenStatistics} from '../monitor/input-statistics.js';

/** Validation rows a reference reads at most: enough for decile bins, bounded in time. */
const MAX_ROWS = 5000;

/**
 * Writes the drift reference of run folder `dir` (drift-reference.json): over the rows training
 * validated on, the tokens per input and their unknown-token share (runs with a tokenizer) and the
 * predicted-label distribution (classifiers). `serve` compares live traffic with it. Returns
 * undefined for a kind that cannot say its validation rows.
 */
export async function writeDriftReference(
  dir: string,
  files: {data: string; val?: string},
): Promise<DriftReference | undefined> {
  const {kind, run} = await openRun(dir);
  try {
    if (!kind.validationRows) return undefined;
    const rows = (await kind.validationRows(run, files)).slice(0, MAX_ROWS);
    if (rows.length === 0) return undefined;
    const meta = kind.metadata(run);
    const statistics: Record<string, StatisticReference> = {};
    if (run.tokenizer && meta.textField) {
      const texts = rows.map((r) => String(r[meta.textField!] ?? ''));
      const unk = run.tokenizer.special.unk;
      const stats = (await run.tokenizer.encodeBatch(texts)).map((ids) => tokenStatistics(ids, unk));
      statistics[DRIFT_STATISTICS.inputLength] = numericReference(stats.map((s) => s.length));
      statistics[DRIFT_STATISTICS.oovRate] = numericReference(stats.map((s) => s.oovRate));
    }
    if (kind.classify && run.labels) {
      const labels = run.labels;
      const best = argmaxRows(await kind.classify(run, rows), labels.length);
      const predicted = Array.from(best, (i) => labels[i]!);
      statistics[DRIFT_STATISTICS.predictedLabel] = categoricalReference(predicted, labels);
    }
    const reference: DriftReference = {
      version: 1,
      source: files.val ? `validation: ${files.val}` : `validation: the holdout of ${files.data}`,
      rows: rows.length,
      statistics,
    };
    await saveDriftReference(dir, reference);
    return reference;
  } finally {
    run.model.dispose();
  }
}
