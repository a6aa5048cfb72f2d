/**
 * Drift monitoring: the statistics `train` saves of a model's validation data (a reference), the
 * same statistics over a sliding window of live traffic, and the population stability index (PSI)
 * between the two. Pure bookkeeping over numbers and labels; the model and the tokenizer stay with
 * the caller (workflows/drift-reference.ts at training, src/serve when serving).
 */
export * from './drift-reference.js';
export * from './drift-window.js';
export * from './input-statistics.js';
export * from './psi.js';
