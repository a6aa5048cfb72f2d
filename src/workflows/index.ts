/**
 * One library function per command, end to end on run folders: train, evaluate, predict, generate,
 * finetune, merge, distill, prune, quantize, export, quickstart. Each takes an options object and
 * callbacks, asks the run's model kind (src/models/registry.ts) for what differs between kinds, and never
 * prints; src/commands parse flags, call one of these and print.
 */
export * from './clean-with-models.js';
export * from './distill.js';
export * from './drift-reference.js';
export * from './evaluate.js';
export * from './export.js';
export * from './export-onnx.js';
export * from './finetune.js';
export * from './finetune-options.js';
export * from './format-onnx-report.js';
export * from './generate.js';
export * from './merge.js';
export * from './predict.js';
export * from './prune.js';
export * from './prune-report.js';
export * from './quantize.js';
export * from './quickstart.js';
export * from './run-metric.js';
export * from './train.js';
