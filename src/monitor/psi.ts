/**
 * Population stability index of `actual` against `expected` (shares or counts over the same bins):
 * Σ (a − e)·ln(a / e) over the bins, each side normalized to sum 1 and floored at `epsilon` so an
 * empty bin costs a large but finite amount. Read as: < 0.1 no shift, 0.1–0.2 moderate, > 0.2 a
 * significant shift (Siddiqi, "Credit Risk Scorecards", 2006: the usual rule of thumb).
 */
export function psi(expected: readonly number[], actual: readonly number[], epsilon = 1e-4): number {
  if (expected.length !== actual.length) {
    throw new RangeError(`psi: ${expected.length} expected bins but ${actual.length} actual`);
  }
  const shares = (values: readonly number[]) => {
    const total = values.reduce((a, b) => a + b, 0);
    return values.map((v) => Math.max(total > 0 ? v / total : 0, epsilon));
  };
  const e = shares(expected);
  const a = shares(actual);
  return e.reduce((sum, ei, i) => sum + (a[i]! - ei) * Math.log(a[i]! / ei), 0);
}

/** PSI above this is a significant shift: the server logs a warning. */
export const PSI_WARNING = 0.2;
