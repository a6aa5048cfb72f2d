/**
 * The causal language-model kind: its model (a DeepSeek-style decoder) with config and presets, text data
 * as windows, training into a run folder, evaluation (loss, perplexity, bits per byte), the step-wise
 * cached decoder and the batched one for serving, sampling, and distillation from a language-model teacher.
 */
export * from './batch-decoder.js';
export * from './cached-decoder.js';
export * from './causal-lm.js';
export * from './causal-lm-evaluate.js';
export * from './causal-lm-kind.js';
export * from './causal-lm-run.js';
export * from './causal-lm-train.js';
export * from './lm-data.js';
export * from './sampling.js';
