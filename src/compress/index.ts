/**
 * Compression mechanisms: functions that take weights or a model and give them back changed, with a
 * report: weight encodings and quantization (weight-codec, quantize-model, qat), pruning by magnitude,
 * structure (FFN neurons, heads, units) or MoE experts, the pruning schedule and masked fine-tuning, the
 * model-folder IO handler and the browser export writer. What a command does with a run folder lives in
 * src/workflows.
 */

export * from './export.js';
export * from './format-report.js';
export * from './model-folder.js';
export * from './prune-experts.js';
export * from './prune-ffn.js';
export * from './prune-finetune.js';
export * from './prune-heads.js';
export * from './prune-magnitude.js';
export * from './prune-rebuild.js';
export * from './prune-schedule.js';
export * from './prune-structures.js';
export * from './prune-units.js';
export * from './qat.js';
export * from './quantize.js';
export * from './quantize-model.js';
export * from './weight-codec.js';
