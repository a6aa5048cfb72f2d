/**
 * The quality bar's baseline: bag-of-words logistic regression (binary word presence, words seen in
 * ≥ 2 training texts, L2-regularized, full-batch gradient descent with Adam), in plain TypeScript.
 */
const words = (text: string) =>
  text
    .toLowerCase()
    .replace(/<br\s*\/?>/g, ' ')
    .match(/[a-z0-9']+/g) ?? [];

export interface BowExample {
  text: string;
  label: string;
}

export function bowLogisticAccuracy(
  train: readonly BowExample[],
  test: readonly BowExample[],
  options: {epochs?: number; l2?: number} = {},
): number {
  const labels = [...new Set(train.map((r) => r.label))].sort();
  if (labels.length !== 2) throw new Error('binary baseline');
  const df = new Map<string, number>();
  for (const r of train) for (const w of new Set(words(r.text))) df.set(w, (df.get(w) ?? 0) + 1);
  const vocab = new Map<string, number>();
  for (const [w, n] of df) if (n >= 2) vocab.set(w, vocab.size);
  const featurize = (text: string) =>
    [
      ...new Set(
        words(text)
          .map((w) => vocab.get(w))
          .filter((i) => i !== undefined),
      ),
    ] as number[];
  const xs = train.map((r) => featurize(r.text));
  const ys = train.map((r) => (r.label === labels[1] ? 1 : 0));
  const d = vocab.size;
  const w = new Float64Array(d);
  let b = 0;
  const m = new Float64Array(d + 1);
  const v = new Float64Array(d + 1);
  const l2 = options.l2 ?? 1e-3;
  const lr = 0.05;
  const grad = new Float64Array(d + 1);
  for (let t = 1; t <= (options.epochs ?? 200); t++) {
    grad.fill(0);
    for (let i = 0; i < xs.length; i++) {
      let z = b;
      for (const j of xs[i]!) z += w[j]!;
      const err = 1 / (1 + Math.exp(-z)) - ys[i]!;
      for (const j of xs[i]!) grad[j]! += err / xs.length;
      grad[d]! += err / xs.length;
    }
    for (let j = 0; j <= d; j++) {
      const g = grad[j]! + (j < d ? l2 * w[j]! : 0);
      m[j] = 0.9 * m[j]! + 0.1 * g;
      v[j] = 0.999 * v[j]! + 0.001 * g * g;
      const step = (lr * (m[j]! / (1 - 0.9 ** t))) / (Math.sqrt(v[j]! / (1 - 0.999 ** t)) + 1e-8);
      if (j < d) w[j]! -= step;
      else b -= step;
    }
  }
  let correct = 0;
  for (const r of test) {
    let z = b;
    for (const j of featurize(r.text)) z += w[j]!;
    if ((z > 0 ? labels[1] : labels[0]) === r.label) correct++;
  }
  return correct / test.length;
}
