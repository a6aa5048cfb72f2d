import {ConfigError} from '../../errors.js';

export interface SamplingOptions {
  /** 0: greedy (always the most likely token). Default 1. */
  temperature?: number;
  /** Keep only the k most likely tokens (0: all). */
  topK?: number;
  /** Keep the smallest set of tokens whose probability reaches p (1: all). */
  topP?: number;
}

/** Throws a ConfigError naming the first sampling setting out of range. */
export function checkSampling(o: SamplingOptions): void {
  if (o.temperature !== undefined && !(o.temperature >= 0)) {
    throw new ConfigError(`temperature must be ≥ 0 (0: greedy), got ${o.temperature}`);
  }
  if (o.topK !== undefined && !(Number.isInteger(o.topK) && o.topK >= 0)) {
    throw new ConfigError(`top-k must be a whole number ≥ 0 (0: off), got ${o.topK}`);
  }
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) {
    throw new ConfigError(`top-p must be in (0, 1], got ${o.topP}`);
  }
}

/**
 * Picks the next token id from `logits` with temperature, top-k and nucleus (top-p) filtering;
 * `random` gives numbers in [0, 1) (a seeded generator makes the choice reproducible).
 */
export function sampleToken(logits: Float32Array, options: SamplingOptions, random: () => number): number {
  const temperature = options.temperature ?? 1;
  if (temperature === 0) return argmax(logits);
  const order = Array.from(logits.keys()).sort((a, b) => logits[b]! - logits[a]!);
  const k = options.topK && options.topK > 0 ? Math.min(options.topK, order.length) : order.length;
  const kept = order.slice(0, k);
  const max = logits[kept[0]!]!;
  const weights = kept.map((i) => Math.exp((logits[i]! - max) / temperature));
  const total = weights.reduce((a, b) => a + b, 0);
  const topP = options.topP ?? 1;
  let n = kept.length;
  if (topP < 1) {
    let mass = 0;
    for (let i = 0; i < kept.length; i++) {
      mass += weights[i]! / total;
      if (mass >= topP) {
        n = i + 1;
        break;
      }
    }
  }
  const keptTotal = weights.slice(0, n).reduce((a, b) => a + b, 0);
  let r = random() * keptTotal;
  for (let i = 0; i < n; i++) {
    r -= weights[i]!;
    if (r < 0) return kept[i]!;
  }
  return kept[n - 1]!;
}

export function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}
