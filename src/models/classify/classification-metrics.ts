/** Precision, recall and F1 of one class, and how many examples truly belong to it. */
export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ClassificationMetrics {
  examples: number;
  accuracy: number;
  /** Unweighted mean of the per-class F1 (classes with no examples and no predictions left out). */
  macro_f1: number;
  per_class: Record<string, ClassMetrics>;
  /** Row order of the confusion matrix. */
  labels: string[];
  /** confusion[true][predicted] counts. */
  confusion: number[][];
}

/**
 * Accuracy, macro-F1, per-class precision/recall/F1 and the confusion matrix of predicted against
 * true class ids (indices into `labels`), optionally weighted. 0/0 counts as 0, as scikit-learn's
 * `zero_division=0` does.
 */
export function classificationMetrics(
  predicted: ArrayLike<number>,
  actual: ArrayLike<number>,
  labels: readonly string[],
): ClassificationMetrics {
  const k = labels.length;
  const confusion = Array.from({length: k}, () => new Array<number>(k).fill(0));
  let correct = 0;
  for (let i = 0; i < actual.length; i++) {
    confusion[actual[i]!]![predicted[i]!]! += 1;
    if (actual[i] === predicted[i]) correct++;
  }
  const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);
  const perClass: Record<string, ClassMetrics> = {};
  const f1s: number[] = [];
  for (let c = 0; c < k; c++) {
    const tp = confusion[c]![c]!;
    const support = confusion[c]!.reduce((a, b) => a + b, 0);
    const predictedC = confusion.reduce((a, row) => a + row[c]!, 0);
    const precision = ratio(tp, predictedC);
    const recall = ratio(tp, support);
    const f1 = ratio(2 * precision * recall, precision + recall);
    perClass[labels[c]!] = {precision, recall, f1, support};
    if (support > 0 || predictedC > 0) f1s.push(f1);
  }
  return {
    examples: actual.length,
    accuracy: ratio(correct, actual.length),
    macro_f1: ratio(
      f1s.reduce((a, b) => a + b, 0),
      f1s.length,
    ),
    per_class: perClass,
    labels: [...labels],
    confusion,
  };
}

/** A plain-text report: accuracy and macro-F1, a table per class, the confusion matrix. */
export function formatClassificationMetrics(m: ClassificationMetrics): string {
  const width = Math.max(8, ...m.labels.map((l) => l.length));
  const pad = (s: string) => s.padEnd(width);
  const num = (x: number) => x.toFixed(4).padStart(9);
  const lines = [
    `examples ${m.examples}  accuracy ${m.accuracy.toFixed(4)}  macro_f1 ${m.macro_f1.toFixed(4)}`,
    '',
    `${pad('class')} ${'precision'.padStart(9)} ${'recall'.padStart(9)} ${'f1'.padStart(9)} ${'support'.padStart(9)}`,
    ...m.labels.map((l) => {
      const c = m.per_class[l]!;
      return `${pad(l)} ${num(c.precision)} ${num(c.recall)} ${num(c.f1)} ${String(c.support).padStart(9)}`;
    }),
    '',
    `confusion (rows: true, columns: predicted)`,
    `${pad('')} ${m.labels.map((l) => l.padStart(width)).join(' ')}`,
    ...m.labels.map((l, i) => `${pad(l)} ${m.confusion[i]!.map((n) => String(n).padStart(width)).join(' ')}`),
  ];
  return lines.join('\n');
}

/** Index of the largest of each row of `probs` (rows of `k`). */
export function argmaxRows(probs: Float32Array, k: number): Int32Array {
  const n = probs.length / k;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (probs[i * k + c]! > probs[i * k + best]!) best = c;
    out[i] = best;
  }
  return out;
}
