/**
 * LoRA as model-wide passes: applyLoRA / fuseLoRA (each layer says what stands in for it, the graph is
 * rebuilt with map-layers), adapter files (save, read, attach), and preparing a model for fine-tuning
 * (LoRA or full, freezing by path, a new classifier head).
 */
export * from './finetune-model.js';
export * from './lora-adapter.js';
export * from './lora-model.js';
