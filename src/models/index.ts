/**
 * Model kinds. model-kind.ts is the interface every kind implements (train, open a run, read data, loss,
 * evaluate, metric, export metadata; fine-tune data, distill, classify/predict or a step-wise decoder
 * where it can); registry.ts lists the kinds and opens a run folder with the kind that wrote it. One
 * folder per kind (text-classifier, feature-classifier, causal-lm) and classify/ for what both classifiers
 * share; model-config.ts merges presets, config files and flags.
 */

export * from './causal-lm/index.js';
export * from './classify/index.js';
export * from './distill-options.js';
export * from './export-folder.js';
export * from './export-metadata.js';
export * from './feature-classifier/index.js';
export * from './model-config.js';
export * from './model-kind.js';
export * from './registry.js';
export * from './text-classifier/index.js';
export * from './train-options.js';
